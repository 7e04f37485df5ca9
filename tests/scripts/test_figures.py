from scripts.figures import HEADER, markdown_table, printed_into, record


def test_record_replaces_its_own_section_and_keeps_the_others(tmp_path):
    path = tmp_path / "FIGURES.md"
    record("nlu-eval", "NLU", "intent 90 %", command="make eval", path=path)
    record("bench-turns", "Turns", "p95 70 ms", command="make bench", path=path)
    record("nlu-eval", "NLU", "intent 98 %", command="make eval", path=path)

    text = path.read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert "intent 98 %" in text and "intent 90 %" not in text
    assert "p95 70 ms" in text
    assert text.count("<!-- BEGIN nlu-eval -->") == 1
    # sections in a fixed order whatever order they were written in
    assert text.index("BEGIN bench-turns") < text.index("BEGIN nlu-eval")
    assert "by `make eval`" in text and "cores, load average" in text


def test_markdown_table():
    assert markdown_table(["a", "b"], [[1, "x"]]) == "| a | b |\n|---|---|\n| 1 | x |"


def test_what_a_benchmark_prints_is_what_the_figures_file_says(tmp_path, capsys):
    path = tmp_path / "FIGURES.md"
    with printed_into("bench-x", "X", command="make bench", path=path):
        print("p95 70 ms")
    assert capsys.readouterr().out == "p95 70 ms\n"
    assert "```text\np95 70 ms\n```" in path.read_text(encoding="utf-8")
