"""The SDKs follow the spec with no hand edits: a copy of api/openapi.yaml
gains an operation (GET /users/{id}/avatar, getUserAvatar, with a new schema),
the server code and all three SDKs are regenerated from it into a temporary
directory, and the new operation must appear in each and build: the C client
compiled with -Werror and linked, the Python module imported and checking the
new parameter, the TypeScript types and the unchanged sdk/typescript/src/index.ts checked by tsc.

    python3 -m unittest tests/sdk/test_spec_change.py
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TS = os.path.join(ROOT, "sdk", "typescript")
sys.dont_write_bytecode = True

NEW_PATH = """\
  /users/{id}/avatar:
    parameters:
      - $ref: '#/components/parameters/UserId'
    get:
      operationId: getUserAvatar
      summary: Get a user's avatar
      tags: [users]
      responses:
        '200':
          description: The avatar.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Avatar'
        '404':
          $ref: '#/components/responses/NotFound'
"""
NEW_SCHEMA = """\
    Avatar:
      type: object
      required: [url, size]
      properties:
        url:
          type: string
          maxLength: 2048
        size:
          type: integer
          format: int32
          minimum: 1
"""

C_USE = r"""
#include "api_client.gen.h"
#include <stdio.h>

int main(int argc, char **argv)
{
    api_client *c = api_client_new(argc > 1 ? argv[1] : "http://127.0.0.1:9");
    api_client_get_user_avatar_response out;
    api_client_rc rc;

    if (c == NULL)
        return 2;
    rc = api_client_get_user_avatar(c, 1, &out);
    if (rc == API_CLIENT_OK)
        printf("%.*s %d\n", (int)out.body_200.url.len, out.body_200.url.ptr, (int)out.body_200.size);
    api_client_free(c);
    return rc == API_CLIENT_OK ? 0 : 1;
}
"""

TS_USE = """\
import { createApiClient, unwrap } from "./index.js";
import type { Schemas } from "./index.js";

const api = createApiClient("http://127.0.0.1:9");

export async function avatarUrl(id: number): Promise<string> {
    const a: Schemas["Avatar"] = await unwrap(api.GET("/users/{id}/avatar", { params: { path: { id } } }));
    const size: number = a.size;
    return a.url + size;
}

export async function wrong(): Promise<void> {
    // @ts-expect-error the path parameter is a number
    await api.GET("/users/{id}/avatar", { params: { path: { id: "1" } } });
}
"""


def run(cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode, p.stdout))
    return p.stdout


class SpecChange(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sdk-spec-change-")
        with open(os.path.join(ROOT, "api", "openapi.yaml"), encoding="utf-8") as f:
            text = f.read()
        # Insert where the document's own layout puts paths and schemas.
        assert "\ncomponents:\n" in text and "\n  schemas:\n" in text, "spec layout changed"
        text = text.replace("\ncomponents:\n", "\n" + NEW_PATH + "components:\n", 1)
        text = text.replace("\n  schemas:\n", "\n  schemas:\n" + NEW_SCHEMA, 1)
        os.makedirs(os.path.join(cls.tmp, "api"))
        cls.spec = os.path.join(cls.tmp, "api", "openapi.yaml")
        with open(cls.spec, "w", encoding="utf-8") as f:
            f.write(text)
        cls.gen = os.path.join(cls.tmp, "generated")
        cls.sdk = os.path.join(cls.tmp, "sdk")
        run([sys.executable, os.path.join(ROOT, "codegen", "generate.py"), "--spec", cls.spec, "--out", cls.gen])
        run([sys.executable, os.path.join(ROOT, "codegen", "sdk.py"), "--spec", cls.spec, "--out", cls.sdk])
        os.makedirs(os.path.join(cls.sdk, "typescript"))
        run([os.path.join(TS, "node_modules", ".bin", "openapi-typescript"), cls.spec,
             "--output", os.path.join(cls.sdk, "typescript", "schema.gen.ts")])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def read(self, *parts):
        with open(os.path.join(*parts), encoding="utf-8") as f:
            return f.read()

    def test_committed_sdks_do_not_have_it(self):
        # The control: the operation comes from the regenerated copy only.
        for rel in ("c/api_client.gen.h", "python/api_client.py", "typescript/src/schema.gen.ts"):
            self.assertNotIn("avatar", self.read(ROOT, "sdk", rel).lower(), rel)

    def test_c(self):
        h = self.read(self.sdk, "c", "api_client.gen.h")
        self.assertIn("api_client_rc api_client_get_user_avatar(api_client *c, int64_t id, "
                      "api_client_get_user_avatar_response *out);", h)
        self.assertIn("api_avatar body_200;", h)
        use = os.path.join(self.tmp, "use.c")
        with open(use, "w") as f:
            f.write(C_USE)
        exe = os.path.join(self.tmp, "use")
        rt = os.path.join(ROOT, "src", "runtime")
        run([os.environ.get("CC", "cc"), "-std=c17", "-Wall", "-Wextra", "-Werror", "-Wstrict-prototypes",
             "-Wshadow", "-D_GNU_SOURCE", "-I" + rt, "-I" + self.gen, "-I" + os.path.join(self.sdk, "c"),
             "-o", exe, use, os.path.join(self.sdk, "c", "api_client.gen.c"),
             os.path.join(self.gen, "api_types.gen.c"), os.path.join(rt, "rt.c"),
             os.path.join(rt, "json.c"), os.path.join(rt, "validate.c"), "-lcurl", "-lm"])
        # Nothing listens on port 9: the new function runs and reports no answer.
        p = subprocess.run([exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(p.returncode, 1)

    def test_python(self):
        spec = importlib.util.spec_from_file_location("api_client_avatar",
                                                      os.path.join(self.sdk, "python", "api_client.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules["api_client_avatar"] = mod
        try:
            spec.loader.exec_module(mod)
            self.assertTrue(callable(mod.Client.get_user_avatar))
            self.assertEqual([f.name for f in mod.dataclasses.fields(mod.Avatar)], ["url", "size"])
            self.assertEqual(mod.Avatar.__annotations__["size"], "int")
            # The spec's rule on the parameter is applied before sending.
            with self.assertRaises(mod.ValidationError) as cm:
                mod.Client("http://127.0.0.1:9").get_user_avatar(0)
            self.assertEqual(cm.exception.details, [mod.FieldError("path.id", "must be >= 1")])
            with self.assertRaises(mod.TransportError):
                mod.Client("http://127.0.0.1:9", timeout=5).get_user_avatar(1)
        finally:
            del sys.modules["api_client_avatar"]

    def test_typescript(self):
        d = os.path.join(self.sdk, "typescript")
        schema = self.read(d, "schema.gen.ts")
        self.assertIn('"/users/{id}/avatar"', schema)
        self.assertIn("getUserAvatar", schema)
        # The handwritten client goes along unchanged: it names no path or schema.
        shutil.copy(os.path.join(TS, "src", "index.ts"), os.path.join(d, "index.ts"))
        with open(os.path.join(d, "use.ts"), "w") as f:
            f.write(TS_USE)
        with open(os.path.join(d, "tsconfig.json"), "w") as f:
            f.write('{"compilerOptions": {"target": "ES2022", "lib": ["ES2022", "DOM"], '
                    '"module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, '
                    '"noEmit": true, "types": []}, "files": ["use.ts", "index.ts"]}\n')
        with open(os.path.join(d, "package.json"), "w") as f:
            f.write('{"type": "module"}\n')
        os.symlink(os.path.join(TS, "node_modules"), os.path.join(d, "node_modules"))
        run([os.path.join(TS, "node_modules", ".bin", "tsc"), "-p", d])


if __name__ == "__main__":
    unittest.main()
