"""One AVP vocabulary: ``appliance/diameter/avps.py`` is what its generator writes from python-diameter's
dictionary, and the applications name AVPs through it (no raw codes, no (code, vendor) tuples)."""
from __future__ import annotations

import re
from pathlib import Path

from appliance.diameter import avpgen
from appliance.diameter import avps as A
from appliance.diameter import codec as c

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "appliance" / "diameter" / "apps"


def test_the_committed_vocabulary_is_the_generators_output():
    committed = (ROOT / "appliance" / "diameter" / "avps.py").read_text()
    assert committed == avpgen.render(), "regenerate: python -m appliance.diameter.avpgen > appliance/diameter/avps.py"


def test_names_are_the_dictionarys():
    assert A.RATING_GROUP == (432, 0) and A.ROLE_OF_NODE == (829, c.VENDOR_3GPP)
    assert A.TGPP_SIP_AUTH_DATA_ITEM == (612, c.VENDOR_3GPP)            # "3GPP-SIP-Auth-Data-Item"
    assert A.FILTER_ID == (11, 0) and A.FILTER_ID_TGPP == (3805, c.VENDOR_3GPP)   # one name, two vendors
    assert A.RATING_GROUP in A.MEMBERS[A.MULTIPLE_SERVICES_CREDIT_CONTROL]
    assert A.CC_TOTAL_OCTETS in A.MEMBERS[A.USED_SERVICE_UNIT]
    for key in (A.SESSION_ID, A.RATING_GROUP, A.ROLE_OF_NODE, A.CHARGING_RULE_INSTALL):
        assert c.BY_NAME[c.NAMES[key]] == key


def test_keys_read_and_write_messages():
    mscc = A.MULTIPLE_SERVICES_CREDIT_CONTROL.encode([A.RATING_GROUP.encode(7),
                                                      A.USED_SERVICE_UNIT.encode([A.CC_TOTAL_OCTETS.encode(9)])])
    assert mscc == c.avp("Multiple-Services-Credit-Control", [c.avp("Rating-Group", 7), c.avp(
        "Used-Service-Unit", [c.avp("CC-Total-Octets", 9)])])
    msg = c.decode(c.encode(272, 4, c.FLAG_R, 1, 2, [A.SESSION_ID.encode("s;1"), mscc, A.ROLE_OF_NODE.encode(1)]))
    m = msg.get(A.MULTIPLE_SERVICES_CREDIT_CONTROL)
    assert m is not None and m.get(A.RATING_GROUP).u32 == 7
    assert [u.get(A.CC_TOTAL_OCTETS).u64 for u in m.get_all(A.USED_SERVICE_UNIT)] == [9]
    assert msg.get(A.ROLE_OF_NODE).i32 == 1 and msg.get(A.ROLE_OF_NODE).key == A.ROLE_OF_NODE
    assert msg.get(A.CALLING_PARTY_ADDRESS) is None and msg.get_all(A.RATING_GROUP) == []


def test_applications_name_avps_through_the_vocabulary():
    raw = re.compile(r"(?:find|find_all|encode_avp|missing_avp|_one|_need)\(\s*(?:msg,\s*)?\d"
                     r"|\(\d+,\s*(?:V|TGPP|c\.VENDOR_3GPP|0)\)|\.code\s*==\s*\d")
    found = [f"{p.name}:{n}: {line.strip()}" for p in sorted(APPS.glob("*.py"))
             for n, line in enumerate(p.read_text().splitlines(), 1) if raw.search(line)]
    assert found == []
