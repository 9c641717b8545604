"""A schemathesis check for the runs without a token and with a read-only token: every write the
document declares is refused with 401 or 403 and a catalogue error."""

import schemathesis

REFUSALS = {9900160, 9900161, 9900203}  # no token, a token that is not one, a role missing


@schemathesis.check
def write_refused(ctx, response, case):
    declared = case.operation.method.upper()
    if declared == "GET" or case.method.upper() != declared:
        return
    assert response.status_code in (401, 403), f"{case.method} {case.path} answered {response.status_code}"
    codes = response.json().get("error_codes") or []
    assert codes and codes[0] in REFUSALS, f"{case.method} {case.path}: error_codes {codes}"
