"""The record of proceedings (PROTOCOL.md section 8): every finished speech, from the log."""

from __future__ import annotations

import json

from floor.state.model import Kind
from floor.state.record import Record, Speech, record
from tests.state.scenario import T0, Scenario


class Plenary:
    """A chair and four delegates of three delegations; the chair's grants have no limit."""

    def __init__(self, **settings: object) -> None:
        m = self.m = Scenario(**settings)
        self.chair = m.add("Chair", "UN", role="chair")
        self.ana = m.add("Ana", "FR", lang="fr")
        self.bo = m.add("Bo", "DE")
        self.cy = m.add("Cy", "IT")
        self.di = m.add("Di", "FR")

    def request(self, who: str, kind: str = "speak") -> None:
        self.m.given(who, "floor.request", {"kind": kind})

    def grant(self, who: str, **args: object) -> None:
        self.m.given(self.chair, "floor.grant", {"participant": who, "limit_s": 0, **args})

    def speeches(self) -> tuple[Speech, ...]:
        return record(self.m.log).speeches


def test_no_speeches() -> None:
    """A log without grants has an empty record."""
    p = Plenary()
    assert p.speeches() == ()
    assert record(p.m.log).to_wire() == {"speeches": [], "delegations": []}


def test_plain_speeches() -> None:
    """Each grant to release is one speech, with the time actually spoken."""
    p = Plenary()
    p.request(p.ana)
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(10_000)
    p.m.given(p.ana, "floor.release")
    p.m.tick(1_000)
    p.grant(p.bo)
    p.m.tick(7_250)
    p.m.given(p.chair, "floor.release")
    assert p.speeches() == (
        Speech(p.ana, "Ana", "FR", Kind.SPEAK, "fr", T0, T0 + 10_000, 10_000, ()),
        Speech(p.bo, "Bo", "DE", Kind.SPEAK, "en", T0 + 11_000, T0 + 18_250, 7_250, ()),
    )


def test_unfinished_speech_is_not_listed() -> None:
    """The current speech (not yet released) is not in the record."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(5_000)
    assert p.speeches() == ()


def test_interrupted_by_a_point_of_order() -> None:
    """A point of order interrupts a speech: listed in interrupted_by, its time excluded."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(5_000)
    p.request(p.bo, "point_of_order")
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(3_000)
    released = p.m.when(p.bo, "floor.release")
    assert [e.name for e in released] == ["floor.released", "floor.resumed"]
    p.m.tick(4_000)
    p.m.given(p.ana, "floor.release")
    ana, bo = p.speeches()
    assert ana == Speech(p.ana, "Ana", "FR", Kind.SPEAK, "fr", T0, T0 + 12_000, 9_000, (p.bo,))
    assert bo.participant == p.bo
    assert bo.kind is Kind.POINT_OF_ORDER
    assert (bo.start, bo.end, bo.spoke_ms, bo.interrupted_by) == (T0 + 5_000, T0 + 8_000, 3_000, ())


def test_interrupted_by_a_hard_muted_point_of_order() -> None:
    """The interrupter is listed even when its grant first lifts a hard mute."""
    p = Plenary()
    p.grant(p.ana)
    p.m.given(p.chair, "mute.set", {"participant": p.bo, "muted": True})
    p.request(p.bo, "point_of_order")
    p.m.tick(1_000)
    events = p.m.when(p.chair, "floor.grant", {})
    assert [e.name for e in events] == ["floor.interrupted", "mute.changed", "floor.granted"]
    p.m.tick(1_000)
    p.m.given(p.bo, "floor.release")
    p.m.given(p.ana, "floor.release")
    ana = next(s for s in p.speeches() if s.participant == p.ana)
    assert ana.interrupted_by == (p.bo,)
    assert ana.spoke_ms == 1_000


def test_nested_interruptions() -> None:
    """A point of order during a point of order: each speech lists its own interrupter."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(1_000)
    p.request(p.bo, "point_of_order")
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(2_000)
    p.request(p.cy, "point_of_order")
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(4_000)
    p.m.given(p.cy, "floor.release")  # bo resumes
    p.m.tick(8_000)
    p.m.given(p.bo, "floor.release")  # ana resumes
    p.m.tick(16_000)
    p.request(p.di, "point_of_order")
    p.m.given(p.chair, "floor.grant", {})  # ana interrupted a second time
    p.m.tick(32_000)
    p.m.given(p.chair, "floor.release")
    p.m.tick(64_000)
    p.m.given(p.chair, "floor.release")
    by = {s.participant: s for s in p.speeches()}
    assert [s.participant for s in p.speeches()] == [p.ana, p.bo, p.cy, p.di]
    assert by[p.ana].interrupted_by == (p.bo, p.di)
    assert by[p.ana].spoke_ms == 1_000 + 16_000 + 64_000
    assert by[p.bo].interrupted_by == (p.cy,)
    assert by[p.bo].spoke_ms == 2_000 + 8_000
    assert by[p.cy].interrupted_by == ()
    assert by[p.cy].spoke_ms == 4_000
    assert by[p.di].spoke_ms == 32_000
    assert by[p.ana].end == T0 + 127_000


def test_speech_ended_by_the_next_grant() -> None:
    """Granting someone else ends the current speech at that moment."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(6_000)
    p.grant(p.bo)
    p.m.tick(1_000)
    p.grant(p.cy)
    ana, bo = p.speeches()
    assert (ana.participant, ana.end, ana.spoke_ms) == (p.ana, T0 + 6_000, 6_000)
    assert (bo.participant, bo.start, bo.end, bo.spoke_ms) == (p.bo, T0 + 6_000, T0 + 7_000, 1_000)


def test_speech_cut_at_limit() -> None:
    """With cut_at_limit, the speech ends when the time runs out (by the system)."""
    p = Plenary(cut_at_limit=True)
    p.grant(p.ana, limit_s=30)
    p.m.tick(31_000)
    events = p.m.expire(now=T0 + 30_000)
    assert [e.name for e in events] == ["floor.time_expired", "floor.released"]
    (ana,) = p.speeches()
    assert (ana.end, ana.spoke_ms) == (T0 + 30_000, 30_000)


def test_speech_ended_by_removal() -> None:
    """Removing the speaker ends the speech; the record keeps the name it had."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(9_000)
    p.m.admin("participant.remove", {"participant": p.ana})
    (ana,) = p.speeches()
    assert (ana.participant, ana.name, ana.end, ana.spoke_ms) == (p.ana, "Ana", T0 + 9_000, 9_000)


def test_removed_interrupted_speaker() -> None:
    """An interrupted speaker removed before resuming has no finished speech; the rest stand."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(1_000)
    p.request(p.bo, "point_of_order")
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(2_000)
    p.m.admin("participant.remove", {"participant": p.ana})
    released = p.m.when(p.bo, "floor.release")
    assert [e.name for e in released] == ["floor.released"]
    (bo,) = p.speeches()
    assert (bo.participant, bo.spoke_ms) == (p.bo, 2_000)


def test_paused_time_excluded() -> None:
    """Time on pause is not spoken time; the speech still ends at its release."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(3_000)
    p.m.given(p.chair, "floor.pause")
    p.m.tick(60_000)
    p.m.given(p.chair, "floor.unpause")
    p.m.tick(2_500)
    p.m.given(p.chair, "floor.release")
    (ana,) = p.speeches()
    assert (ana.start, ana.end, ana.spoke_ms) == (T0, T0 + 65_500, 5_500)


def test_names_as_at_the_start_of_the_speech() -> None:
    """A rename or a change of delegation during a speech does not change its record."""
    p = Plenary()
    p.grant(p.ana)
    p.m.tick(1_000)
    p.m.admin("participant.update", {"participant": p.ana, "name": "Ana B.", "delegation": "BE"})
    p.m.given(p.ana, "floor.release")
    p.grant(p.ana)
    p.m.tick(1_000)
    p.m.given(p.ana, "floor.release")
    first, second = p.speeches()
    assert (first.name, first.delegation) == ("Ana", "FR")
    assert (second.name, second.delegation) == ("Ana B.", "BE")


def test_granting_a_participant_without_request() -> None:
    """A grant without a request records a `speak` in the participant's language."""
    p = Plenary()
    p.grant(p.ana)
    p.m.given(p.ana, "floor.release")
    (ana,) = p.speeches()
    assert (ana.kind, ana.lang, ana.spoke_ms) == (Kind.SPEAK, "fr", 0)


def test_by_delegation_totals() -> None:
    """by_delegation sums the milliseconds spoken per delegation, in order of first speech."""
    p = Plenary()
    for who, ms in [(p.bo, 4_000), (p.ana, 1_500), (p.cy, 1_000), (p.di, 2_000), (p.bo, 500)]:
        p.grant(who)
        p.m.tick(ms)
        p.m.given(who, "floor.release")
    rec = record(p.m.log)
    assert rec.by_delegation() == {"DE": 4_500, "FR": 3_500, "IT": 1_000}
    assert list(rec.by_delegation()) == ["DE", "FR", "IT"]
    assert rec.to_wire()["delegations"] == [
        {"delegation": "DE", "seconds": 4.5},
        {"delegation": "FR", "seconds": 3.5},
        {"delegation": "IT", "seconds": 1},
    ]


def test_to_wire_shape() -> None:
    """Each speech on the wire has PROTOCOL.md section 8's fields, and survives JSON."""
    p = Plenary()
    p.m.given(p.ana, "floor.request", {"lang": "es"})
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(1_250)
    p.request(p.bo, "point_of_order")
    p.m.given(p.chair, "floor.grant", {})
    p.m.tick(1_000)
    p.m.given(p.bo, "floor.release")
    p.m.tick(2_000)
    p.m.given(p.ana, "floor.release")
    plain = record(p.m.log).to_wire()
    assert json.loads(json.dumps(plain)) == plain
    assert plain["speeches"][0] == {
        "participant": p.ana,
        "name": "Ana",
        "delegation": "FR",
        "kind": "speak",
        "lang": "es",
        "start": T0,
        "end": T0 + 4_250,
        "seconds": 3.25,
        "interrupted_by": [p.bo],
    }
    assert plain["speeches"][1]["kind"] == "point_of_order"
    assert plain["speeches"][1]["seconds"] == 1
    for speech in plain["speeches"]:
        assert set(speech) == {
            "participant",
            "name",
            "delegation",
            "kind",
            "lang",
            "start",
            "end",
            "seconds",
            "interrupted_by",
        }


def test_record_of_an_empty_log() -> None:
    """record() of no events is an empty Record."""
    assert record([]) == Record(())
