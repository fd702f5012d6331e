"""The shared pieces of the exercise checks."""

from llmnotes.exercises import Verdict, check_function, check_number


def test_a_verdict_is_true_only_when_right_and_prints_its_reason():
    assert Verdict(True, "yes") and not Verdict(False, "no")
    assert str(Verdict(False, "too low.")) == "Not yet: too low."


def test_check_number_accepts_within_the_tolerance_and_rejects_outside_it():
    assert check_number(2.004, 2.0, 0.005, "x")
    assert not check_number(2.006, 2.0, 0.005, "x")
    assert "too high" in str(check_number(3, 2, 0.5, "x"))
    assert "is a number" in str(check_number("2", 2, 0.5, "x"))
    assert "is a number" in str(check_number(True, 1, 0.5, "x"))
    assert "replace None" in str(check_number(None, 2, 0.5, "x"))


def test_check_function_reports_the_first_case_that_differs_or_raises():
    assert check_function(sorted, sorted, [([2, 1],)], "sort")
    failed = check_function(lambda xs: xs, sorted, [([1, 2],), ([2, 1],)], "sort")
    assert str(failed) == "Not yet: sort([2, 1]) returned [2, 1]; the reference returns [1, 2]."
    raised = check_function(lambda xs: xs[5], sorted, [([1],)], "sort")
    assert "raised IndexError" in str(raised)
    assert "must be a function" in str(check_function(3, sorted, [], "sort"))
