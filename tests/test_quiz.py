"""The quiz: bank content and validation, plain-Python checking, widgets, terminal."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path

import ipywidgets as widgets
import pytest

from recsys_course.quiz import DEFAULT_BANK, Quiz, QuizBankError, load_bank, parse_bank
from recsys_course.quiz.cli import main as quiz_main

SYLLABUS = Path("/work/shared/SYLLABUS.md")
RAW = json.loads(DEFAULT_BANK.read_text(encoding="utf-8"))


def right_answers(quiz: Quiz) -> dict:
    out = {}
    for q in quiz.questions:
        out[q.id] = sorted(q.answer) if q.type == "multiple" else q.answer
    return out


# ----------------------------------------------------------------- the bank's content
def test_bank_size_types_and_explanations():
    quiz = Quiz()
    assert len(quiz) >= 12
    assert {q.type for q in quiz.questions} == {"single", "multiple", "numeric"}
    assert all(len(q.explanation) > 40 for q in quiz.questions)
    assert {q.goal for q in quiz.questions} >= {"1", "2", "3", "choosing", "evaluation"}
    for goal in ("1", "2", "3"):
        assert sum(q.goal == goal for q in quiz.questions) >= 3, goal


def test_bank_holds_the_three_syllabus_questions_with_their_answers():
    quiz = Quiz()
    by_tag = {q.syllabus: q for q in quiz.questions if q.syllabus}
    assert set(by_tag) == {"Q1", "Q2", "Q3"}
    assert by_tag["Q1"].type == "numeric" and by_tag["Q1"].answer == 481 and by_tag["Q1"].tolerance == 0
    q2 = by_tag["Q2"].choices[by_tag["Q2"].answer]
    assert "preference 0" in q2 and "confidence 1" in q2
    q3 = by_tag["Q3"].choices[by_tag["Q3"].answer]
    assert "implicit" in q3 and "confidence" in q3 and "negative sampling" in q3


def test_numeric_answers_agree_with_the_course_code():
    from recsys_course.exercises import reference
    from recsys_course.feedback import confidence

    quiz = Quiz()
    assert confidence(12, alpha=40) == quiz["q1-confidence-481"].answer
    assert confidence([[1, 0, 8]], alpha=40)[0, 2] == quiz["worked-example-321"].answer
    assert confidence(1, alpha=quiz["alpha-for-eleven"].answer) == 11
    ndcg = reference("ex04")([7, 3, 9], [3], 3)
    question = quiz["ndcg-second-slot"]
    assert abs(ndcg - question.answer) <= question.tolerance


def test_right_answers_are_spread_over_the_letters():
    singles = [q.answer for q in Quiz().questions if q.type == "single"]
    assert max(singles.count(i) for i in set(singles)) <= len(singles) // 2


def test_syllabus_file_lists_the_quiz_questions():
    if not SYLLABUS.exists():
        pytest.skip("the shared syllabus is not on this machine")
    text = SYLLABUS.read_text(encoding="utf-8")
    assert re.search(r"Q1: .*12 times.*481", text)


# ----------------------------------------------------------------- validation
def broken(mutate) -> dict:
    data = copy.deepcopy(RAW)
    mutate(data["questions"])
    return data


@pytest.mark.parametrize("mutate, message", [
    (lambda qs: qs[2].update(type="essay"), r"question 'explicit-scarce': unknown type 'essay'"),
    (lambda qs: qs[3].pop("answer"), r"question 'q1-confidence-481': missing 'answer'"),
    (lambda qs: qs[4].update(id="signals-implicit"), r"question 'signals-implicit': duplicate id"),
    (lambda qs: qs[1].update(answer=7), r"question 'favourite-button': answer 7 is not among the 4 choices"),
    (lambda qs: qs[1].update(answer="Maybe"), r"question 'favourite-button': answer 'Maybe' is not among"),
    (lambda qs: qs[0].update(answer=[0, 9]), r"question 'signals-implicit': answer 9 is not among"),
    (lambda qs: qs[0].update(answer=[]), r"question 'signals-implicit': .*non-empty list"),
    (lambda qs: qs[3].update(tolerance=-1), r"question 'q1-confidence-481': tolerance"),
    (lambda qs: qs[3].update(answer="481"), r"question 'q1-confidence-481': .*finite number"),
    (lambda qs: qs[1].update(choices=["only one"]), r"question 'favourite-button': .*at least 2"),
    (lambda qs: qs[1].pop("explanation"), r"question 'favourite-button': missing a non-empty 'explanation'"),
    (lambda qs: qs[1].update(anwser=1), r"question 'favourite-button': unknown field\(s\) anwser"),
    (lambda qs: qs[5].pop("id"), r"question #6: missing a non-empty string 'id'"),
    (lambda qs: qs[1].update(answer=[0]), r"question 'favourite-button': .*use type 'multiple'"),
])
def test_bank_validation_names_the_question(mutate, message):
    with pytest.raises(QuizBankError, match=message):
        parse_bank(broken(mutate))


def test_bank_file_errors(tmp_path):
    with pytest.raises(QuizBankError, match="cannot read"):
        load_bank(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(QuizBankError, match="not valid JSON"):
        load_bank(bad)
    with pytest.raises(QuizBankError, match="no questions"):
        parse_bank({"questions": []})
    with pytest.raises(TypeError, match="questions must be"):
        Quiz(42)


def test_answers_by_choice_text_in_a_bank_are_accepted():
    title, questions = parse_bank({"title": "t", "questions": [
        {"id": "x", "type": "single", "prompt": "p?", "choices": ["yes", "no"], "answer": "no",
         "explanation": "because"}]})
    assert questions[0].answer == 1 and title == "t"


# ----------------------------------------------------------------- checking
def test_all_right_all_wrong_and_unanswered():
    quiz = Quiz()
    result = quiz.check(right_answers(quiz))
    assert result.score == result.max_score == len(quiz) and result.answered == len(quiz)

    empty = quiz.check({})
    assert empty.score == 0 and empty.answered == 0
    assert all(not f.answered and "not answered" in f.text() for f in empty.feedback)


def test_answer_forms_and_feedback_text():
    quiz = Quiz()
    q2 = quiz["q2-never-clicked"]
    letter = "abcd"[q2.answer]
    for form in (letter, letter.upper(), q2.answer, q2.choices[q2.answer]):
        assert quiz.check({q2.id: form})[q2.id].correct
    wrong = quiz.check({q2.id: "abcd"[(q2.answer + 1) % 4]})[q2.id]
    assert not wrong.correct and "not quite" in wrong.text() and q2.explanation in wrong.text()

    multi = quiz["signals-implicit"]
    for form in ("a,c,d,f", "a c d f", "acdf", ["a", "c", "d", "f"], {0, 2, 3, 5}):
        assert quiz.check({multi.id: form})[multi.id].correct, form
    assert not quiz.check({multi.id: "a,c,d"})[multi.id].correct  # all or nothing

    assert quiz.check({"q1-confidence-481": "481"})["q1-confidence-481"].correct
    assert not quiz.check({"q1-confidence-481": 480})["q1-confidence-481"].correct
    ndcg = quiz["ndcg-second-slot"]
    assert quiz.check({ndcg.id: 0.6309})[ndcg.id].correct
    assert not quiz.check({ndcg.id: 0.64})[ndcg.id].correct


@pytest.mark.parametrize("answers, message", [
    ({"nope": 1}, r"unknown question id 'nope'"),
    ({"q2-never-clicked": "z"}, r"question 'q2-never-clicked' must be a choice letter a-d"),
    ({"q2-never-clicked": 9}, r"question 'q2-never-clicked'"),
    ({"q1-confidence-481": "lots"}, r"question 'q1-confidence-481' must be a finite number"),
    ({"q1-confidence-481": float("nan")}, r"finite number"),
    ({"signals-implicit": 3.5}, r"question 'signals-implicit' must be a list"),
])
def test_unreadable_answers_raise_naming_the_question(answers, message):
    with pytest.raises(ValueError, match=message):
        Quiz().check(answers)


def test_check_needs_a_mapping_and_subset_needs_known_ids():
    with pytest.raises(TypeError, match="mapping"):
        Quiz().check([("q1-confidence-481", 481)])
    small = Quiz().subset(["q1-confidence-481", "q2-never-clicked"])
    assert len(small) == 2 and small.check({"q1-confidence-481": 481}).score == 1
    with pytest.raises(ValueError, match="unknown question id 'zz'"):
        Quiz().subset(["zz"])


# ----------------------------------------------------------------- widgets
def test_widget_choose_check_feedback_running_score():
    quiz = Quiz()
    box = quiz.show()
    assert isinstance(box, widgets.VBox)
    ui = quiz.widget
    assert "Score: 0 / 21" in ui.score.value

    q1 = ui.rows["q1-confidence-481"]
    q1.button.click()
    assert "answer first" in q1.feedback.value
    q1.input.value = "481"
    q1.button.click()
    assert "Correct" in q1.feedback.value and "1 + 40 * 12" in q1.feedback.value
    assert "Score: 1 / 21" in ui.score.value and "1 of 21 checked" in ui.score.value

    q2 = ui.rows["q2-never-clicked"]
    q2.input.value = (quiz["q2-never-clicked"].answer + 1) % 4
    q2.button.click()
    assert "Not quite" in q2.feedback.value
    assert "Score: 1 / 21" in ui.score.value and "2 of 21 checked" in ui.score.value
    q2.input.value = quiz["q2-never-clicked"].answer  # try again
    q2.button.click()
    assert "Score: 2 / 21" in ui.score.value

    multi = ui.rows["signals-implicit"]
    for i in quiz["signals-implicit"].answer:
        multi.boxes[i].value = True
    multi.button.click()
    assert "Correct" in multi.feedback.value and "Score: 3 / 21" in ui.score.value

    q1.input.value = "four hundred"
    q1.button.click()
    assert "plain number" in q1.feedback.value


# ----------------------------------------------------------------- terminal
def run_cli(argv, stdin_text=""):
    out = io.StringIO()
    code = quiz_main(argv, stdin=io.StringIO(stdin_text), stdout=out)
    return code, out.getvalue()


def test_cli_reads_answers_from_stdin_line_by_line():
    quiz = Quiz()
    letters = "abcdefghijklmnopqrstuvwxyz"
    lines = []
    for q in quiz.questions:
        if q.type == "single":
            lines.append(letters[q.answer])
        elif q.type == "multiple":
            lines.append(",".join(letters[i] for i in sorted(q.answer)))
        else:
            lines.append(f"{q.answer:g}")
    lines[0] = "x,y\n" + lines[0]  # an unreadable answer is asked again
    lines[1] = ""  # skip one
    code, out = run_cli([], "\n".join(lines) + "\n")
    assert code == 0
    assert "could not read 'x,y'" in out and "skipped." in out
    assert f"Final score {len(quiz) - 1} / {len(quiz)} ({len(quiz) - 1} answered)." in out
    assert "running score: 3 / 4" in out


def test_cli_end_of_input_and_quit():
    code, out = run_cli([], "481\n")  # answers the first question with an unreadable letter list
    assert code == 0 and "(end of input)" in out and "Final score 0 / 21" in out
    code, out = run_cli(["--only", "q1-confidence-481,q2-never-clicked"], "481\nq\n")
    assert code == 0 and "Final score 1 / 2 (1 answered)." in out


def test_cli_answers_file_json_and_errors(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"q1-confidence-481": 481, "q2-never-clicked": "a"}), encoding="utf-8")
    code, out = run_cli(["--answers", str(answers)])
    assert code == 0 and "score 1 / 21 (2 answered)" in out
    code, out = run_cli(["--answers", "-", "--json"], json.dumps({"q1-confidence-481": 481}))
    assert code == 0 and json.loads(out)["score"] == 1
    code, out = run_cli(["--list"])
    assert code == 0 and "q1-confidence-481" in out and "(Q1)" in out
    assert run_cli(["--answers", "-"], "{not json")[0] == 2
    assert run_cli(["--answers", "-"], '{"nope": 1}')[0] == 2
    assert run_cli(["--answers", str(tmp_path / "missing.json")])[0] == 2
    assert run_cli(["--only", "zz"])[0] == 2
    assert run_cli(["--bogus"])[0] == 2


def test_cli_through_the_course_command(capsys, monkeypatch):
    from recsys_course.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("a,c,d,f\nq\n"))
    assert main(["quiz"]) == 0
    assert "Final score 1 / 21 (1 answered)." in capsys.readouterr().out


# ----------------------------------------------------------------- figure
def test_quiz_coverage_figure():
    import matplotlib

    matplotlib.use("Agg")
    from recsys_course import plots

    fig = plots.quiz_coverage()
    ax = fig.axes[0]
    assert "21 questions" in ax.get_title() and ax.get_xlabel() == "questions (count)"
    widths = {}
    for bar in ax.patches:
        label = ax.get_yticklabels()[round(bar.get_y() + bar.get_height() / 2)].get_text()
        widths[label] = widths.get(label, 0) + bar.get_width()
    assert sum(widths.values()) == 21
    fig.canvas.draw()
    legend_box = ax.get_legend().get_window_extent()
    covered = [bar for bar in ax.patches if bar.get_width() > 0 and bar.get_window_extent().overlaps(legend_box)]
    assert not covered, f"the legend covers {len(covered)} bar(s)"
    with pytest.raises(TypeError, match="recsys_course.quiz.Quiz"):
        plots.quiz_coverage("not a quiz")
