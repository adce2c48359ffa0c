"""Charging hooks used by the tests (configured as ``tests.diameter.hooks:ccr_orig``)."""
from __future__ import annotations

import time

from appliance.diameter.hook import CcrView, Override


def ccr_orig(view: CcrView):
    if view.session_case != "originating" or not view.to:
        return None
    if view.to.endswith("666"):
        return (4010, 0, 1)                                   # Kamailio-style ccr_result()
    if view.to.startswith("tel:+49"):
        return Override(granted=min(view.granted, 60), final=True)
    if view.to.endswith("slow"):
        time.sleep(1.0)
        return (4010, 0, 1)
    if view.to.endswith("boom"):
        raise RuntimeError("operator script bug")
    return None
