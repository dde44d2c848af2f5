/*
 * spec_change_probe.c - the handler of the one operation that
 * tests/browser/spec_change.sh adds to a copy of api/openapi.yaml. It is
 * compiled only into the server that test builds from that copy (next to
 * the real service), because the build refuses a spec operation without a
 * handler.
 */
#include "api.gen.h"

rt_status svc_get_spec_change_probe(rt_req *req, api_get_spec_change_probe_result *res)
{
    (void)req;
    res->body_200.status = API_HEALTH_STATUS_OK;
    return RT_OK;
}
