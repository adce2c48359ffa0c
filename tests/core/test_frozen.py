"""quick_init keeps every property of a frozen slotted dataclass while constructing it faster."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from appliance.ocs.balance import Hold, Reservation
from appliance.ocs.frozen import quick_init
from appliance.ocs.rating import ChargeRequest, ChargeResult, Outcome
from appliance.ocs.units import Unit


@dataclass(frozen=True, slots=True)
class Plain:
    a: int
    b: str = "x"
    c: tuple[int, ...] = ()
    d: dict[str, int] = field(default_factory=dict)
    e: int = field(default=7, init=False)


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    a: int
    b: str = "x"
    c: tuple[int, ...] = ()
    d: dict[str, int] = field(default_factory=dict)
    e: int = field(default=7, init=False)


@pytest.mark.parametrize("args, kwargs", [((1,), {}), ((1, "y"), {}), ((1,), {"c": (2, 3)}),
                                          ((), {"a": 5, "d": {"k": 1}}), ((1, "b", (4,), {"z": 2}), {})])
def test_same_fields_as_the_dataclass_init(args, kwargs):
    plain, quick = Plain(*args, **kwargs), Quick(*args, **kwargs)
    assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert quick == Quick(*args, **kwargs)


def test_still_frozen_and_replaceable():
    q = Quick(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.a = 2  # type: ignore[misc]
    assert dataclasses.replace(q, b="z") == Quick(1, "z")
    assert Quick(1).d is not Quick(1).d  # a fresh default per instance
    with pytest.raises(TypeError):
        Quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick(1, e=3)  # type: ignore[call-arg]


def test_domain_classes_use_it_and_hash_by_value():
    hold = Hold(1, Unit.MONEY, 5)
    assert hash(hold) == hash(Hold(1, Unit.MONEY, 5)) and {hold, Hold(1, Unit.MONEY, 5)} == {hold}
    res = Reservation("s", -1, "p", "svc", Unit.OCTETS, 10, (hold,), None, 1, 0, 9)
    assert dataclasses.replace(res, granted=3).granted == 3 and res.granted == 10
    assert ChargeRequest("imsi", "s", "update").now == 0  # type: ignore[arg-type]
    assert ChargeResult(Outcome.SUCCESS).balance == {} and ChargeResult(Outcome.SUCCESS).duplicate is False


def test_refuses_what_it_would_get_wrong():
    with pytest.raises(TypeError):
        @quick_init
        @dataclass(frozen=True, slots=True)
        class Checked:
            a: int

            def __post_init__(self) -> None:
                pass
    with pytest.raises(TypeError):
        @quick_init
        @dataclass(slots=True)
        class Mutable:
            a: int
    with pytest.raises(TypeError):
        @quick_init
        @dataclass(frozen=True, slots=True, kw_only=True)
        class KeywordOnly:
            a: int


def test_stamped_request_is_replace_with_now():
    """ChargeRequest.stamped copies fields by hand: a field added later must not be dropped."""
    from appliance.ocs.rating import Action, UsageItem
    values = {f.name: f"v-{f.name}" for f in dataclasses.fields(ChargeRequest)}
    values.update(action=Action.UPDATE, items=(UsageItem(Unit.OCTETS, 1, 2, 3, 4),), now=1)
    request = ChargeRequest(**values)
    assert request.stamped(99) == dataclasses.replace(request, now=99)
