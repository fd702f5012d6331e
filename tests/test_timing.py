from llmnotes.timing import fastest


def test_fastest_runs_warmup_plus_repeats_and_returns_the_last_result():
    calls = []
    seconds, result = fastest(lambda: calls.append(1) or len(calls), repeats=3)
    assert len(calls) == 4 and result == 4 and seconds >= 0
    calls.clear()
    fastest(lambda: calls.append(1), repeats=2, warmup=False)
    assert len(calls) == 2
