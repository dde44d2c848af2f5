"""The build fails, naming the operation, when the service lacks a handler.

scripts/check-handlers.sh is what the Makefile runs before linking the
server; these tests give it object files that define all, all but one, and
none of the handlers listed in generated/operations.gen.tsv.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TSV = os.path.join(ROOT, "generated", "operations.gen.tsv")
CHECK = os.path.join(ROOT, "scripts", "check-handlers.sh")
CC = shutil.which("gcc") or shutil.which("cc")


def operations():
    with open(TSV, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


class HandlerCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def obj_defining(self, symbols):
        src = os.path.join(self.tmp, "svc.c")
        with open(src, "w", encoding="utf-8") as f:
            f.write("int svc_helper_not_a_handler(void) { return 0; }\n")
            for s in symbols:
                f.write("int %s(void) { return 0; }\n" % s)
        obj = os.path.join(self.tmp, "svc.o")
        subprocess.run([CC, "-c", "-o", obj, src], check=True)
        return obj

    def check(self, obj):
        return subprocess.run([CHECK, TSV, obj], capture_output=True, text=True)

    def test_every_operation_is_listed(self):
        ops = operations()
        self.assertEqual(len(ops), 7)
        self.assertIn(["svc_delete_user", "deleteUser", "DELETE /users/{id}"], ops)

    def test_all_handlers_defined_passes(self):
        r = self.check(self.obj_defining([op[0] for op in operations()]))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_missing_handler_fails_naming_the_operation(self):
        ops = [op[0] for op in operations() if op[0] != "svc_delete_user"]
        r = self.check(self.obj_defining(ops))
        self.assertEqual(r.returncode, 1)
        self.assertIn("operation 'deleteUser' (DELETE /users/{id}) is not implemented", r.stderr)
        self.assertIn("svc_delete_user", r.stderr)
        self.assertNotIn("createUser", r.stderr)

    def test_no_handlers_names_every_operation(self):
        r = self.check(self.obj_defining([]))
        self.assertEqual(r.returncode, 1)
        for sym, op, route in operations():
            self.assertIn("operation '%s' (%s)" % (op, route), r.stderr)


if __name__ == "__main__":
    unittest.main()
