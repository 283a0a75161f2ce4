"""The guided-script loader and the run engine: pure, no Qt, no database."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk.domain.script_run import RunError, ScriptRun
from desk.domain.scripts import (
    MAX_FILE_BYTES,
    Library,
    Mood,
    Outcome,
    Script,
    ScriptError,
    StepKind,
    build_library,
    builtin_directory,
    check_in_library,
    fill,
    leading_to,
    load_builtin_library,
    load_library,
    new_script_source,
    parse_script,
    parse_script_text,
    with_version,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


GOOD = """
id = "tiny"
version = 2
default_language = "en"
moods = ["angry", "calm"]
title.en = "A tiny script"
title.es = "Un guion pequeño"

[[steps]]
id = "hello"
kind = "say"
text.en = "Greet them."
text.es = "Salúdele."
phrases = [{ en = "Hello {customer_name}, I'm {officer_name}.", es = "Hola {customer_name}." }]

[[steps]]
id = "tick"
kind = "check"
text.en = "I listened."

[[steps]]
id = "how"
kind = "ask"
text.en = "How is it going?"
answers = [
  { id = "fine", text.en = "Fine", goto = "done" },
  { id = "again", text.en = "Say hello again", goto = "hello" },
  { id = "help", text.en = "Escalate", goto = "escalate" },
]

[[steps]]
id = "escalate"
kind = "action"
action = "escalation"
text.en = "Pass case {case_ref} on."
next = "passed"

[[steps]]
id = "done"
kind = "end"
outcome = "calmed_and_resolved"
text.en = "Well done."

[[steps]]
id = "passed"
kind = "end"
outcome = "escalated"
text.en = "Passed on."
"""


def refusal(text: str, source: str = "bad.toml") -> str:
    with pytest.raises(ScriptError) as caught:
        parse_script_text(text, source)
    return str(caught.value)


def swap(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


# --- loading ---------------------------------------------------------------------------------


def test_a_good_script_loads_with_its_steps_moods_and_languages() -> None:
    script = parse_script_text(GOOD, "tiny.toml")
    assert script.id == "tiny" and script.version == 2 and script.source == "tiny.toml"
    assert script.moods == (Mood.ANGRY, Mood.CALM)
    assert [s.kind for s in script.steps] == [
        StepKind.SAY,
        StepKind.CHECK,
        StepKind.ASK,
        StepKind.ACTION,
        StepKind.END,
        StepKind.END,
    ]
    assert script.step("hello").next == "tick", "next defaults to the following step"
    assert script.title.in_language("es") == "Un guion pequeño"
    assert script.title.in_language("fr") == "A tiny script", "falls back to the default"
    assert script.title.in_language("es-MX") == "Un guion pequeño", "region falls to language"
    assert script.languages == {"en", "es"}


def test_malformed_toml_is_refused_naming_the_file() -> None:
    message = refusal('id = "x"\nversion = [', "broken.toml")
    assert message.startswith("broken.toml: is not valid TOML")


def test_an_unknown_step_kind_is_refused_naming_the_step_and_field() -> None:
    message = refusal(swap('kind = "check"', 'kind = "sing"'))
    assert "bad.toml, step 'tick', field 'kind': 'sing' is not known" in message
    assert "guidance, say, ask, check, action, end" in message


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("version = 2\n", "", "field 'version': is missing"),
        ('title.en = "A tiny script"\n', "", "field 'title': has no text in the default"),
        ('text.en = "I listened."\n', "", "step 'tick', field 'text': is missing"),
        ('outcome = "escalated"\n', "", "step 'passed', field 'outcome': is missing"),
        ('action = "escalation"\n', "", "step 'escalate', field 'action': is missing"),
        ('id = "tick"\n', "", "step '#2', field 'id': is missing"),
    ],
)
def test_missing_fields_are_refused_with_where_they_are_missing(
    old: str, new: str, where: str
) -> None:
    assert where in refusal(swap(old, new))


def test_an_unknown_placeholder_is_refused_naming_the_step_and_language() -> None:
    message = refusal(swap("Hola {customer_name}.", "Hola {nombre}."))
    assert "step 'hello', field 'phrases[0].es': unknown placeholder {nombre}" in message


def test_a_stray_brace_is_refused() -> None:
    message = refusal(swap('text.en = "Greet them."', 'text.en = "Greet {them."'))
    assert "step 'hello', field 'text.en': has a stray brace" in message


def test_a_branch_to_a_missing_step_is_refused() -> None:
    message = refusal(swap('goto = "done"', 'goto = "nowhere"'))
    assert "step 'how', field 'answers[0].goto': leads to a step 'nowhere'" in message


def test_a_missing_default_language_text_is_refused() -> None:
    message = refusal(swap('text.en = "Greet them."\n', ""))
    assert "step 'hello', field 'text': has no text in the default language 'en'" in message


def test_a_loop_without_a_way_out_is_refused_naming_its_steps() -> None:
    text = swap('next = "passed"', 'next = "escalate"')  # the action step loops on itself
    message = refusal(text)
    assert "step 'escalate': never reaches an end" in message
    assert "step 'how'" not in message, "a step with another way out is fine"


def test_a_last_step_that_is_not_an_end_is_refused() -> None:
    text = GOOD + '\n[[steps]]\nid = "dangling"\nkind = "guidance"\ntext.en = "Hm."\n'
    assert "step 'dangling', field 'next': is missing" in refusal(text)


def test_unknown_fields_and_bad_values_are_refused() -> None:
    message = refusal(swap('next = "passed"', 'nxt = "passed"'))
    assert "step 'escalate', field 'nxt': is not a field here" in message
    message = refusal(swap('moods = ["angry", "calm"]', 'moods = ["grumpy"]'))
    assert "field 'moods[0]': 'grumpy' is not known" in message
    message = refusal(swap('id = "done"', 'id = "Done Now"'))
    assert "is not a valid id" in message


def test_an_answer_needs_exactly_one_target() -> None:
    message = refusal(swap('goto = "done"', 'goto = "done", script = "other"'))
    assert "step 'how', field 'answers[0]': needs exactly one of goto" in message


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = swap('kind = "check"', 'kind = "sing"').replace("version = 2", "version = 0")
    problems = refusal(text).splitlines()
    assert len(problems) >= 2


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_library_keeps_good_files_and_lists_the_refused_ones(tmp_path: Path) -> None:
    write(tmp_path, "a_good.toml", GOOD)
    write(tmp_path, "b_broken.toml", "this is = = not toml")
    write(tmp_path, "c_kind.toml", swap('kind = "check"', 'kind = "sing"').replace("tiny", "c"))
    write(tmp_path, "notes.txt", "ignored")
    library = load_library(tmp_path)
    assert list(library.scripts) == ["tiny"]
    assert [r.file for r in library.refusals] == ["b_broken.toml", "c_kind.toml"]


def test_a_huge_file_is_refused_without_being_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024)  # 10 MB (sparse: cheap to make)
    write(tmp_path, "tiny.toml", GOOD)
    library = load_library(tmp_path)
    assert "tiny" in library
    [refused] = library.refusals
    assert str(refused) == (
        f"huge.toml: is too large: 10,485,760 bytes, at most {MAX_FILE_BYTES:,} allowed "
        "for a script"
    )


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin.toml").write_bytes(GOOD.replace("ñ", "\xf1").encode("latin-1"))
    [refused] = load_library(tmp_path).refusals
    assert str(refused).startswith("latin.toml: is not UTF-8")


def test_branches_to_scripts_are_checked_against_the_library(tmp_path: Path) -> None:
    linked = swap('goto = "escalate"', 'script = "other"')
    write(tmp_path, "tiny.toml", linked)
    library = load_library(tmp_path)
    assert "tiny" not in library
    assert "step 'how', field 'answers[2].script': leads to a script 'other'" in str(
        library.refusals[0]
    )
    other = GOOD.replace('id = "tiny"', 'id = "other"')
    write(tmp_path, "other.toml", other)
    assert set(load_library(tmp_path).scripts) == {"tiny", "other"}


def test_scripts_that_only_lead_to_each_other_are_refused() -> None:
    looping = """
id = "{me}"
version = 1
default_language = "en"
moods = ["calm"]
title.en = "Loop"
[[steps]]
id = "start"
kind = "ask"
text.en = "Where now?"
answers = [{{ id = "go", text.en = "Over there", script = "{other}" }}]
"""
    a = parse_script_text(looping.format(me="ping", other="pong"), "ping.toml")
    b = parse_script_text(looping.format(me="pong", other="ping"), "pong.toml")
    library = build_library([a, b])
    assert len(library) == 0
    assert all("never reaches an end" in str(r) for r in library.refusals)


def test_a_duplicate_script_id_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD)
    write(tmp_path, "b.toml", GOOD)
    library = load_library(tmp_path)
    assert list(library.scripts) == ["tiny"]
    assert "b.toml, field 'id': uses the id 'tiny' of a.toml" in str(library.refusals[0])


def test_a_missing_directory_is_a_refusal_not_a_crash(tmp_path: Path) -> None:
    library = load_library(tmp_path / "nope")
    assert len(library) == 0 and "cannot be read" in str(library.refusals[0])


def test_placeholders_are_filled_and_missing_values_are_shown_as_hints() -> None:
    assert fill("Hello {customer_name}, ref {case_ref}.", {"customer_name": "Ana"}) == (
        "Hello Ana, ref [case ref]."
    )


# --- the shipped library -----------------------------------------------------------------------


def test_the_shipped_library_loads_without_refusals() -> None:
    library = load_builtin_library()
    assert library.refusals == ()
    assert set(library.scripts) == {
        "last",
        "deescalate_angry",
        "distressed_customer",
        "aggressive_behaviour",
        "cannot_grant",
        "supervisor_request",
        "social_media_complaint",
        "service_recovery",
    }
    assert sum(1 for s in library if "es" in s.languages) >= 2
    assert builtin_directory().joinpath("__init__.py").exists()


def test_every_mood_proposes_a_fitting_script() -> None:
    library = load_builtin_library()
    proposals = {mood: library.propose(mood) for mood in Mood}
    assert {m: s.id for m, s in proposals.items() if s} == {
        Mood.CALM: "last",
        Mood.ANXIOUS: "distressed_customer",
        Mood.FRUSTRATED: "last",
        Mood.ANGRY: "deescalate_angry",
        Mood.DISTRESSED: "distressed_customer",
        Mood.AGGRESSIVE: "aggressive_behaviour",
    }
    assert library.propose(None) is None


def test_the_aggressive_script_puts_safety_first_and_can_end_in_an_incident() -> None:
    script = load_builtin_library()["aggressive_behaviour"]
    assert script.steps[1].action is not None and script.steps[1].action.value == "safety_alert"
    assert Outcome.SAFETY_INCIDENT in script.outcomes()


# --- the run engine ---------------------------------------------------------------------------


def tiny_library() -> Library:
    return build_library([parse_script_text(GOOD, "tiny.toml")])


def test_a_run_renders_placeholders_in_the_officers_language_with_fallback() -> None:
    values = {"customer_name": "Ana", "officer_name": "Olga", "case_ref": "C-1"}
    run = ScriptRun(tiny_library(), "tiny", started_at=T0, language="es", values=values)
    assert run.render(run.step.phrases[0]) == "Hola Ana."
    run.language = "fr"
    assert run.render(run.step.phrases[0]) == "Hello Ana, I'm Olga."
    run.next(at(1))
    run.tick(True, at(2))
    run.next(at(3))
    run.choose("help", at(4))
    assert run.render(run.step.text) == "Pass case C-1 on."


def test_a_run_records_steps_answers_ticks_times_and_outcome() -> None:
    run = ScriptRun(tiny_library(), "tiny", started_at=T0)
    assert (run.position, run.about_total) == (1, 5)
    run.next(at(10))
    run.tick(True, at(15))
    run.next(at(20))
    run.choose("again", at(30))
    assert run.step.id == "hello" and run.position == 4
    run.raise_safety_alert(at(35))
    run.next(at(40))
    run.next(at(50))
    run.choose("fine", at(60))
    assert run.finished and run.outcome is Outcome.CALMED_AND_RESOLVED
    record = run.record()
    assert record.script_id == "tiny" and record.script_version == 2
    assert [s for _, s, _ in record.steps_shown] == [
        "hello",
        "tick",
        "how",
        "hello",
        "tick",
        "how",
        "done",
    ]
    assert [(s, a, t) for _, s, a, t in record.answers] == [
        ("how", "again", at(30)),
        ("how", "fine", at(60)),
    ]
    assert record.ticks == (("tiny", "tick", at(15)),)
    assert record.safety_alerts == (("tiny", "hello", at(35)),)
    assert record.started_at == T0 and record.ended_at == at(60)
    assert record.as_dict()["outcome"] == "calmed_and_resolved"
    with pytest.raises(RunError):
        run.next(at(70))


def test_a_run_can_end_early_and_back_undoes_that() -> None:
    run = ScriptRun(tiny_library(), "tiny", started_at=T0)
    run.next(at(1))
    run.end_now(Outcome.CUSTOMER_LEFT, at(2))
    assert run.finished and run.record().ended_at == at(2)
    run.back(at(3))
    assert not run.finished and run.step.id == "tick"
    with pytest.raises(RunError):
        run.choose("fine", at(4))


def test_a_branch_to_another_script_continues_there() -> None:
    other = parse_script_text(GOOD.replace('id = "tiny"', 'id = "other"'), "other.toml")
    linked = parse_script_text(swap('goto = "escalate"', 'script = "other"'), "tiny.toml")
    run = ScriptRun(build_library([linked, other]), "tiny", started_at=T0)
    run.next(at(1))
    run.next(at(2))
    run.choose("help", at(3))
    assert run.script.id == "other" and run.step.id == "hello"
    assert run.record().scripts == (("tiny", 2), ("other", 2))
    run.back(at(4))
    assert run.script.id == "tiny" and run.step.id == "how"


# --- generated scripts -------------------------------------------------------------------------

OUTCOMES = [o.value for o in Outcome]
MOVING = ["guidance", "say", "check", "action"]


@st.composite
def script_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid script: steps only lead forward, except extra answers that may loop back, and
    the last step is an end; so every path can end. Answer 0 always leads forward."""
    count = draw(st.integers(min_value=2, max_value=12))
    steps: list[dict[str, Any]] = []
    for i in range(count):
        step: dict[str, Any] = {"id": f"s{i}", "text": {"en": f"Step {i} for {{customer_name}}"}}
        last = i == count - 1
        kind = "end" if last else draw(st.sampled_from([*MOVING, "ask", "end"]))
        step["kind"] = kind
        if kind == "end":
            step["outcome"] = draw(st.sampled_from(OUTCOMES))
        elif kind == "ask":
            forward = draw(st.integers(min_value=i + 1, max_value=count - 1))
            answers = [{"id": "a0", "text": {"en": "Go on"}, "goto": f"s{forward}"}]
            for n in range(draw(st.integers(min_value=0, max_value=3))):
                target = draw(st.integers(min_value=0, max_value=count - 1))
                answers.append({"id": f"a{n + 1}", "text": {"en": f"A{n}"}, "goto": f"s{target}"})
            step["answers"] = answers
        else:
            step["next"] = f"s{draw(st.integers(min_value=i + 1, max_value=count - 1))}"
            if kind == "say":
                step["phrases"] = [{"en": "Hello {customer_name}", "es": "Hola"}]
            if kind == "action":
                step["action"] = draw(st.sampled_from(["escalation", "referral", "safety_alert"]))
        steps.append(step)
    return {
        "id": "generated",
        "version": 1,
        "default_language": "en",
        "moods": ["calm"],
        "title": {"en": "Generated"},
        "steps": steps,
    }


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=script_dicts(), walk=st.lists(st.integers(min_value=-1, max_value=5), max_size=40))
def test_random_walks_through_valid_scripts_always_end_and_back_undoes_exactly(
    data: dict[str, Any], walk: list[int]
) -> None:
    script = parse_script(data, "generated.toml")
    run = ScriptRun(build_library([script]), script.id, started_at=T0)
    clock = iter(range(1, 10_000))
    moves = 0
    choices = iter(walk)
    while not run.finished:
        moves += 1
        assert moves <= len(walk) + len(script.steps) + 1, "the walk did not end"
        choice = next(choices, 0)  # once the drawn walk is used up, always go forward
        before = run.state()
        step = run.step
        if choice == -1 and run.can_go_back:
            run.back(at(next(clock)))
            # Going forward the same way again gives back the same state.
            continue
        if step.kind is StepKind.CHECK and choice % 2:
            run.tick(True, at(next(clock)))
            before = run.state()
        if step.kind is StepKind.ASK:
            run.choose(step.answers[choice % len(step.answers)].id, at(next(clock)))
        else:
            run.next(at(next(clock)))
        if not run.finished and choice == 3:
            run.back(at(next(clock)))
            assert run.state() == before, "Back restores exactly what was there before"
            if step.kind is StepKind.ASK:
                run.choose(step.answers[choice % len(step.answers)].id, at(next(clock)))
            else:
                run.next(at(next(clock)))
    assert run.step.kind is StepKind.END
    record = run.record()
    assert record.outcome is run.outcome and record.steps_shown[0][1] == "s0"
    assert len(record.answers) == sum(1 for f in run.state().path if f.answer_id)


@settings(max_examples=100)
@given(data=script_dicts(), pick=st.integers(min_value=0, max_value=1000))
def test_a_generated_branch_to_a_missing_step_is_refused_naming_the_step(
    data: dict[str, Any], pick: int
) -> None:
    broken = copy.deepcopy(data)
    movers = [s for s in broken["steps"] if s["kind"] != "end"]
    if not movers:
        movers = [broken["steps"][0]]
        movers[0].update(kind="guidance", next="s0")
        movers[0].pop("outcome", None)
    step = movers[pick % len(movers)]
    if step["kind"] == "ask":
        step["answers"][0]["goto"] = "missing_step"
        field = "answers[0].goto"
    else:
        step["next"] = "missing_step"
        field = "next"
    with pytest.raises(ScriptError) as caught:
        parse_script(broken, "generated.toml")
    assert f"step '{step['id']}', field '{field}': leads to a step 'missing_step'" in str(
        caught.value
    )


@settings(max_examples=100)
@given(data=script_dicts(), pick=st.integers(min_value=0, max_value=1000))
def test_a_generated_loop_without_a_way_out_is_refused_naming_the_step(
    data: dict[str, Any], pick: int
) -> None:
    broken = copy.deepcopy(data)
    steps = broken["steps"]
    victim = steps[pick % (len(steps) - 1)]  # never the last end
    victim.clear()
    victim.update(id=f"s{pick % (len(steps) - 1)}", kind="guidance", text={"en": "Round again"})
    victim["next"] = victim["id"]  # a step that only leads to itself
    with pytest.raises(ScriptError) as caught:
        parse_script(broken, "generated.toml")
    assert f"step '{victim['id']}': never reaches an end" in str(caught.value)


# --- the library in the shared database ----------------------------------------------------------

BUILTIN_TEXTS = {
    path.stem: path.read_text(encoding="utf-8") for path in builtin_directory().glob("*.toml")
}


def test_with_version_changes_only_the_top_level_version_line() -> None:
    text = GOOD.replace(
        'text.en = "Well done."',
        'text.en = """Well done.\nversion = 9 is what the step says, not the script."""',
    ).replace("version = 2\n", "version = 2  # the second\n# version = 8 in a comment\n")
    changed = with_version(text, 5)
    assert "version = 5  # the second\n# version = 8 in a comment\n" in changed
    assert "version = 9 is what the step says" in changed
    assert changed.replace("version = 5", "version = 2", 1) == text
    script = parse_script_text(changed)
    assert script.version == 5 and script.steps == parse_script_text(text).steps


def test_with_version_inserts_the_line_after_the_id_when_there_is_none() -> None:
    text = GOOD.replace("version = 2\n", "")
    changed = with_version(text, 3)
    assert changed.startswith('\nid = "tiny"\nversion = 3\ndefault_language = "en"\n')
    assert parse_script_text(changed).version == 3
    # No id line either: the version goes first.
    bare = "\n".join(line for line in text.splitlines() if not line.startswith('id = "tiny"'))
    assert with_version(bare, 4).startswith("version = 4\n")


def test_with_version_keeps_windows_line_endings() -> None:
    text = GOOD.replace("\n", "\r\n")
    changed = with_version(text, 6)
    assert "\r\nversion = 6\r\n" in changed
    assert changed.count("\r\n") == text.count("\r\n")
    assert parse_script_text(changed).version == 6


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(BUILTIN_TEXTS)),
    version=st.integers(min_value=1, max_value=2**63 - 1),
    drop_line=st.booleans(),
)
def test_with_version_sets_any_version_of_any_shipped_script_and_nothing_else(
    name: str, version: int, drop_line: bool
) -> None:
    text = BUILTIN_TEXTS[name]
    if drop_line:
        text = text.replace("\nversion = 1\n", "\n", 1)
    original = parse_script_text(BUILTIN_TEXTS[name])
    changed = with_version(text, version)
    script = parse_script_text(changed)
    assert script.version == version
    assert script.steps == original.steps
    assert (script.id, script.title, script.moods, script.proposed_for) == (
        original.id,
        original.title,
        original.moods,
        original.proposed_for,
    )
    assert with_version(changed, version) == changed  # numbering again changes nothing


def onward_to(target: str, *, way_out: bool = True) -> Script:
    """A script whose question leads to the script ``target`` (and, with ``way_out``, to an end
    of its own)."""
    stop = '  { id = "stop", text.en = "Stop", goto = "done" },\n' if way_out else ""
    return parse_script_text(
        f"""
id = "onward"
version = 1
default_language = "en"
moods = ["calm"]
title.en = "Onward"

[[steps]]
id = "ask"
kind = "ask"
text.en = "Go on?"
answers = [
  {{ id = "other", text.en = "Another script", script = "{target}" }},
{stop}]

[[steps]]
id = "done"
kind = "end"
outcome = "customer_left"
text.en = "Done."
""",
        "onward.toml",
    )


LOOPING_TINY = """
id = "tiny"
version = 3
default_language = "en"
moods = ["calm"]
title.en = "Tiny, round again"

[[steps]]
id = "again"
kind = "ask"
text.en = "Round again?"
answers = [{ id = "round", text.en = "Round", script = "onward" }]
"""


def test_check_in_library_names_a_branch_to_a_script_that_is_not_there() -> None:
    library = build_library([parse_script_text(GOOD, "tiny.toml")])
    assert check_in_library(onward_to("tiny"), library) == ()
    astray = parse_script_text(
        swap(
            '{ id = "fine", text.en = "Fine", goto = "done" }',
            '{ id = "fine", text.en = "Fine", script = "nowhere" }',
        ),
        "tiny.toml",
    )
    problems = check_in_library(astray, library)
    assert [(p.file, p.step, p.field) for p in problems] == [
        ("tiny.toml", "how", "answers[0].script")
    ]
    assert "'nowhere' that is not in the library" in problems[0].message


def test_check_in_library_checks_a_new_version_in_place_of_its_namesake() -> None:
    library = build_library(
        [parse_script_text(GOOD, "tiny.toml"), onward_to("tiny", way_out=False)]
    )
    assert library.refusals == ()
    # The same id again is a new version, not a duplicate.
    newer = parse_script_text(GOOD.replace("Well done.", "Very well done."), "tiny (draft)")
    assert check_in_library(newer, library) == ()
    # A new version that only leads back to onward, which only leads to tiny: no way out.
    looping = parse_script_text(LOOPING_TINY, "tiny (draft)")
    problems = check_in_library(looping, library)
    assert {(p.file, p.step) for p in problems} == {
        ("tiny (draft)", "again"),
        ("onward.toml", "ask"),
    }
    assert all("never reaches an end" in p.message for p in problems)
    # With a way out of onward, the same new version is fine.
    free = build_library([parse_script_text(GOOD, "tiny.toml"), onward_to("tiny")])
    assert check_in_library(looping, free) == ()


def test_leading_to_lists_the_scripts_with_an_answer_leading_there() -> None:
    library = load_builtin_library()
    assert leading_to("cannot_grant", library) == ("deescalate_angry", "last")
    assert leading_to("last", library) == ("supervisor_request",)
    assert leading_to("service_recovery", library) == ()
    assert leading_to("not_a_script", library) == ()


@pytest.mark.parametrize(
    "title",
    ["Refunds refused", 'A "quoted" word', "back\\slash", "braces {x}", "two\nlines", "", "\x00"],
)
def test_a_new_script_to_start_from_is_valid_whatever_its_title(title: str) -> None:
    script = parse_script_text(new_script_source("refunds_refused", title))
    assert script.id == "refunds_refused" and script.version == 1
    assert script.title.in_language("en").strip()
    assert {s.kind for s in script.steps} >= {StepKind.ASK, StepKind.END}
    assert script.outcomes() == {Outcome.CALMED_AND_RESOLVED, Outcome.ESCALATED}
    assert build_library([script]).refusals == ()


@settings(max_examples=200)
@given(title=st.text(max_size=80))
def test_a_new_script_to_start_from_parses_for_any_typed_title(title: str) -> None:
    assert parse_script_text(new_script_source("new_script", title)).id == "new_script"


def test_a_library_tells_a_script_at_each_version_it_had() -> None:
    first = parse_script_text(GOOD.replace("version = 2", "version = 1"), "tiny v1")
    second = parse_script_text(GOOD.replace("Well done.", "Very well done."), "tiny v2")
    library = Library({"tiny": second}, earlier={("tiny", 1): first})
    assert library.at_version("tiny", 2) is second
    assert library.at_version("tiny", 1) is first
    assert library.at_version("tiny", 1).step("done").text.in_language("en") == "Well done."
    assert library.at_version("tiny", 3) is None
    assert library.at_version("other", 1) is None
    assert "tiny" in library and len(library) == 1  # earlier versions are not offered
    retired = Library({}, earlier={("tiny", 1): first, ("tiny", 2): second})
    assert retired.at_version("tiny", 2) is second and "tiny" not in retired
