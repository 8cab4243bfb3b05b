"""What may happen next (selection.transitions) — pure: definition + plain state in, plain data out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from jishi.procedures.loader import bundled_path, load_file, parse_text
from jishi.procedures.schema import ProcedureDefinition, Scope
from jishi.selection.transitions import (
    BatchState,
    Cell,
    available_steps,
    cell_state,
    current_stage,
    is_finished,
    unmet_prerequisites,
)


def _step(step_id: str, scope: str, prerequisites: list[str] | None = None, *, waivable: bool = False) -> str:
    pre = f"\n        prerequisites: [{', '.join(prerequisites)}]" if prerequisites is not None else ""
    return f"""
      - id: {step_id}
        name: 步骤{step_id}
        name_en: Step {step_id}
        scope: {scope}{pre}
        waivable: {"true" if waivable else "false"}
        responsible_roles: [clerk]
        signer_roles: [clerk]
        requirements: [{{id: {step_id}-1, text: 记录, methods: [XT], responsible: [clerk]}}]
        basis: [{{source: src}}]"""


# Stage 1: A (batch) → B (per person, previous step implied) → C (per person, after B, may be waived).
# Stage 2: D (batch) waits for C of every active person → E (per person) after D and that person's B.
MINI_TEXT = f"""\
code: mini
version: "1"
name: 小流程
sources: [{{id: src, title: 测试依据}}]
stages:
  - id: s1
    name: 第一环节
    name_en: First
    steps:{_step("A", "batch")}{_step("B", "nomination")}{_step("C", "nomination", ["B"], waivable=True)}
  - id: s2
    name: 第二环节
    name_en: Second
    steps:{_step("D", "batch", ["C"])}{_step("E", "nomination", ["D", "B"])}
"""
MINI = parse_text(MINI_TEXT).definition
STANDARD = load_file(bundled_path("standard")).definition
DONE = frozenset({"completed", "waived"})


def state(
    batch: dict[str, str] | None = None,
    nominations: dict[int, dict[str, str]] | None = None,
    active: set[int] | frozenset[int] = frozenset({1, 2}),
) -> BatchState:
    return BatchState(batch=dict(batch or {}), nominations=dict(nominations or {}), active=frozenset(active))


def all_done(definition: ProcedureDefinition, before: str, nominations=(1, 2)) -> BatchState:
    """Every step ahead of ``before`` (in file order) completed for the batch and each nomination."""
    ids = [s.id for s in definition.steps()]
    earlier = [definition.step(i) for i in ids[: ids.index(before)]]
    return state(
        {s.id: "completed" for s in earlier if s.scope == Scope.BATCH},
        {n: {s.id: "completed" for s in earlier if s.scope == Scope.NOMINATION} for n in nominations},
        set(nominations),
    )


def test_the_small_definition_reads_its_prerequisites_as_written():
    assert [MINI.prerequisites_of(s.id) for s in MINI.steps()] == [(), ("A",), ("B",), ("C",), ("D", "B")]


# ── first steps ────────────────────────────────────────────────────────────────────────────────


def test_only_the_first_step_is_available_at_the_start():
    s = state()
    assert available_steps(MINI, s) == [("A", None)]
    assert cell_state(MINI, s, "A", None) == Cell.AVAILABLE
    assert cell_state(MINI, s, "B", 1) == Cell.LOCKED
    assert cell_state(MINI, s, "D", None) == Cell.LOCKED
    assert unmet_prerequisites(MINI, s, "B", 1) == ["A"]


def test_finishing_a_batch_step_opens_the_next_step_for_every_active_nomination():
    s = state({"A": "completed"})
    assert available_steps(MINI, s) == [("B", 1), ("B", 2)]
    assert cell_state(MINI, s, "A", None) == Cell.DONE


def test_a_step_in_progress_is_neither_done_nor_available():
    s = state({"A": "in_progress"})
    assert cell_state(MINI, s, "A", None) == Cell.IN_PROGRESS
    assert available_steps(MINI, s) == []
    assert cell_state(MINI, s, "B", 1) == Cell.LOCKED


# ── nomination-scope steps ─────────────────────────────────────────────────────────────────────


def test_a_nomination_step_waits_only_on_its_own_nominations_prerequisite():
    s = state({"A": "completed"}, {1: {"B": "completed"}})
    assert cell_state(MINI, s, "C", 1) == Cell.AVAILABLE
    assert cell_state(MINI, s, "C", 2) == Cell.LOCKED
    assert unmet_prerequisites(MINI, s, "C", 2) == ["B"]
    assert available_steps(MINI, s) == [("B", 2), ("C", 1)]


def test_a_nomination_step_asked_about_without_a_nomination_is_locked():
    s = state({"A": "completed"})
    assert cell_state(MINI, s, "B", None) == Cell.LOCKED


def test_a_nomination_step_with_a_batch_and_a_nomination_prerequisite_needs_both():
    s = state({"A": "completed", "D": "completed"}, {1: {"C": "completed"}, 2: {"B": "completed", "C": "waived"}})
    # Nomination 1 has no B on record (impossible in practice, but the rule must still hold).
    assert unmet_prerequisites(MINI, s, "E", 1) == ["B"]
    assert cell_state(MINI, s, "E", 1) == Cell.LOCKED
    assert cell_state(MINI, s, "E", 2) == Cell.AVAILABLE


# ── batch steps waiting on nomination-scope steps ─────────────────────────────────────────────


def test_a_batch_step_waits_for_every_active_nomination():
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "completed"}, 2: {"B": "completed"}})
    assert cell_state(MINI, s, "D", None) == Cell.LOCKED
    assert unmet_prerequisites(MINI, s, "D", None) == ["C"]
    assert ("D", None) not in available_steps(MINI, s)


def test_a_batch_step_opens_once_every_active_nomination_is_done():
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "completed"}, 2: {"B": "completed", "C": "completed"}})
    assert cell_state(MINI, s, "D", None) == Cell.AVAILABLE
    assert available_steps(MINI, s) == [("D", None)]


def test_a_waived_prerequisite_counts_as_done():
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "completed"}, 2: {"B": "completed", "C": "waived"}})
    assert cell_state(MINI, s, "C", 2) == Cell.WAIVED
    assert unmet_prerequisites(MINI, s, "D", None) == []
    assert cell_state(MINI, s, "D", None) == Cell.AVAILABLE


def test_a_batch_step_ignores_a_dropped_nomination():
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "completed"}, 2: {"B": "completed"}}, active={1})
    assert cell_state(MINI, s, "D", None) == Cell.AVAILABLE
    assert available_steps(MINI, s) == [("D", None)]


def test_a_batch_step_waiting_on_a_nomination_step_stays_locked_with_no_active_nomination():
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "completed"}}, active=set())
    assert cell_state(MINI, s, "D", None) == Cell.LOCKED
    assert available_steps(MINI, s) == []


# ── dropped nominations ───────────────────────────────────────────────────────────────────────


def test_a_dropped_nomination_keeps_what_it_finished_and_shows_the_rest_as_dropped():
    s = state({"A": "completed"}, {2: {"B": "completed", "C": "waived"}}, active={1})
    assert cell_state(MINI, s, "B", 2) == Cell.DONE
    assert cell_state(MINI, s, "C", 2) == Cell.WAIVED
    assert cell_state(MINI, s, "E", 2) == Cell.DROPPED
    s = state({"A": "completed"}, {2: {"B": "in_progress"}}, active={1})
    assert cell_state(MINI, s, "B", 2) == Cell.DROPPED
    assert all(nomination != 2 for _, nomination in available_steps(MINI, s))


# ── finished and current stage ────────────────────────────────────────────────────────────────


def test_the_batch_is_finished_only_when_every_step_is_done_for_every_active_nomination():
    full = {"B": "completed", "C": "completed", "E": "completed"}
    done = state({"A": "completed", "D": "completed"}, {1: dict(full), 2: dict(full)})
    assert is_finished(MINI, done)
    assert available_steps(MINI, done) == []
    assert current_stage(MINI, done) == "已完成"
    short = state({"A": "completed", "D": "completed"}, {1: dict(full), 2: {"B": "completed", "C": "completed"}})
    assert not is_finished(MINI, short)
    assert available_steps(MINI, short) == [("E", 2)]
    assert current_stage(MINI, short) == "第二环节"


def test_a_dropped_nomination_does_not_hold_the_batch_open():
    full = {"B": "completed", "C": "completed", "E": "completed"}
    s = state({"A": "completed", "D": "completed"}, {1: full, 2: {"B": "completed"}}, active={1})
    assert is_finished(MINI, s)


def test_a_batch_with_no_active_nomination_is_never_finished():
    s = state({"A": "completed", "D": "completed"}, {}, active=set())
    assert not is_finished(MINI, s)


def test_the_current_stage_is_the_first_with_a_step_not_done():
    assert current_stage(MINI, state()) == "第一环节"
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "waived"}, 2: {"B": "completed"}})
    assert current_stage(MINI, s) == "第一环节"
    s = state({"A": "completed"}, {1: {"B": "completed", "C": "waived"}, 2: {"B": "completed", "C": "completed"}})
    assert current_stage(MINI, s) == "第二环节"


# ── the standard definition ───────────────────────────────────────────────────────────────────


def test_the_standard_procedure_starts_with_d01_only():
    s = state()
    assert available_steps(STANDARD, s) == [("D01", None)]
    assert current_stage(STANDARD, s) == "动议"
    assert cell_state(STANDARD, s, "D02", None) == Cell.LOCKED


def test_the_standard_inspection_checks_run_in_parallel_after_the_notice():
    s = all_done(STANDARD, "K04", nominations=(1,))
    assert available_steps(STANDARD, s) == [("K04", 1), ("K07", 1), ("K08", 1), ("K09", 1), ("K10", 1)]
    assert current_stage(STANDARD, s) == "考察"


def test_the_standard_k11_waits_for_all_five_inspection_checks():
    s = all_done(STANDARD, "K11", nominations=(1,))
    assert cell_state(STANDARD, s, "K11", 1) == Cell.AVAILABLE
    del s.nominations[1]["K09"]
    assert unmet_prerequisites(STANDARD, s, "K11", 1) == ["K09"]
    assert cell_state(STANDARD, s, "K11", 1) == Cell.LOCKED


def test_the_standard_y05_meeting_waits_for_the_consultations_of_every_nomination():
    s = all_done(STANDARD, "Y02")
    s.batch["Y01"] = "completed"
    for step in ("Y02", "Y03", "Y04"):
        s.nominations[1][step] = "waived"
    s.nominations[2].update({"Y02": "completed", "Y03": "waived"})
    assert unmet_prerequisites(STANDARD, s, "Y05", None) == ["Y04"]
    assert cell_state(STANDARD, s, "Y05", None) == Cell.LOCKED
    s.nominations[2]["Y04"] = "completed"
    assert cell_state(STANDARD, s, "Y05", None) == Cell.AVAILABLE
    assert current_stage(STANDARD, s) == "酝酿"


# ── property: walking only through available steps respects every prerequisite ─────────────


def _prerequisites_done(definition, batch, nominations, active, step_id, nomination) -> bool:
    """Independent oracle for the module docstring's rule."""
    for pre in definition.prerequisites_of(step_id):
        if definition.step(pre).scope == Scope.BATCH:
            ok = batch.get(pre) in DONE
        elif nomination is not None:
            ok = nominations[nomination].get(pre) in DONE
        else:
            ok = bool(active) and all(nominations[n].get(pre) in DONE for n in active)
        if not ok:
            return False
    return True


def _walk(definition: ProcedureDefinition, data, people: int) -> None:
    active = set(range(1, people + 1))
    batch: dict[str, str] = {}
    nominations: dict[int, dict[str, str]] = {n: {} for n in active}
    for _ in range(10 * len(definition.steps()) * people):
        s = state(batch, {n: dict(v) for n, v in nominations.items()}, active)
        if is_finished(definition, s):
            break
        choices = available_steps(definition, s)
        assert choices, f"stuck with nothing available: {s}"
        step_id, nomination = data.draw(st.sampled_from(choices))
        assert _prerequisites_done(definition, batch, nominations, active, step_id, nomination), (step_id, nomination)
        outcome = "waived" if definition.step(step_id).waivable and data.draw(st.booleans()) else "completed"
        if nomination is None:
            assert step_id not in batch
            batch[step_id] = outcome
        else:
            assert step_id not in nominations[nomination]
            nominations[nomination][step_id] = outcome
        if len(active) > 1 and data.draw(st.integers(0, 19)) == 0:
            active.discard(data.draw(st.sampled_from(sorted(active))))
    final = state(batch, nominations, active)
    assert is_finished(definition, final)
    assert current_stage(definition, final) == "已完成"
    batch_steps = [s.id for s in definition.steps() if s.scope == Scope.BATCH]
    person_steps = [s.id for s in definition.steps() if s.scope == Scope.NOMINATION]
    assert sorted(batch) == sorted(batch_steps)
    for n in active:
        assert sorted(nominations[n]) == sorted(person_steps)


@hypothesis_settings(deadline=None, database=None, max_examples=150)
@given(data=st.data(), people=st.integers(min_value=1, max_value=4))
def test_completing_only_available_steps_never_skips_a_prerequisite_and_always_finishes(data, people):
    _walk(MINI, data, people)


@hypothesis_settings(deadline=None, database=None, max_examples=15)
@given(data=st.data(), people=st.integers(min_value=1, max_value=3))
def test_the_standard_procedure_can_always_be_walked_to_the_end(data, people):
    _walk(STANDARD, data, people)


@pytest.mark.parametrize("cell", list(Cell))
def test_every_cell_state_is_reachable_in_the_small_definition(cell):
    examples = {
        Cell.DONE: (state({"A": "completed"}), "A", None),
        Cell.WAIVED: (state({"A": "completed"}, {1: {"B": "completed", "C": "waived"}}), "C", 1),
        Cell.IN_PROGRESS: (state({"A": "completed"}, {1: {"B": "in_progress"}}), "B", 1),
        Cell.AVAILABLE: (state({"A": "completed"}), "B", 1),
        Cell.LOCKED: (state(), "B", 1),
        Cell.DROPPED: (state({"A": "completed"}, {}, active={2}), "B", 1),
    }
    s, step_id, nomination = examples[cell]
    assert cell_state(MINI, s, step_id, nomination) == cell
