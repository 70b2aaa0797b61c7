"""The comparer and the reference matchers (compare.py), without any instance: python3 test_compare.py."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402

with open(os.path.join(HERE, "scenario.json"), encoding="utf-8") as f:
    SCENARIO = json.load(f)


def conforming_output() -> list[dict]:
    """What a conforming runner writes: the normalised matcher cases, then each step's pattern."""
    lines = [{"step": "matchers", "result": [c["normalised"] for c in SCENARIO["matcher_cases"]]}]
    return lines + [{"step": s["id"], "result": s["expect"]} for s in SCENARIO["steps"]]


class MatcherTest(unittest.TestCase):
    def test_the_scenario_cases(self) -> None:
        for case in SCENARIO["matcher_cases"]:
            with self.subTest(case=case):
                got = compare.normalise(case["actual"], case["pattern"], SCENARIO["matcher_variables"])
                self.assertEqual(got, case["normalised"])

    def test_substitute_keeps_the_type_of_a_whole_placeholder(self) -> None:
        v = {"P": 5433, "H": "127.0.1.1"}
        self.assertEqual(compare.substitute({"port": "${P}", "api": "${H}:${P}", "l": ["${H}"]}, v),
                         {"port": 5433, "api": "127.0.1.1:5433", "l": ["127.0.1.1"]})
        with self.assertRaises(KeyError):
            compare.substitute("${NOPE}", v)

    def test_equality_is_jsons(self) -> None:
        self.assertTrue(compare._equal({"a": 1, "b": [1.0]}, {"b": [1], "a": 1.0}))
        self.assertFalse(compare._equal(True, 1))
        self.assertFalse(compare._equal(0, False))
        self.assertFalse(compare._equal([1, 2], [2, 1]))


class CompareTest(unittest.TestCase):
    def test_conforming_outputs_pass(self) -> None:
        self.assertEqual(compare.compare(SCENARIO, {"a": conforming_output(), "b": conforming_output()}), [])

    def test_a_result_off_its_pattern_is_reported(self) -> None:
        bad = conforming_output()
        bad[3]["result"] = {"error": "state"}
        problems = compare.compare(SCENARIO, {"a": conforming_output(), "b": bad})
        self.assertTrue(any(f"b: step {bad[3]['step']}" in p for p in problems), problems)
        self.assertTrue(any("a and b differ at line 4" in p for p in problems), problems)
        self.assertFalse(any(p.startswith("a:") for p in problems), problems)

    def test_a_divergent_matcher_is_reported(self) -> None:
        bad = conforming_output()
        bad[0]["result"][1] = "<int>"  # 5.5 taken for an integer
        problems = compare.compare(SCENARIO, {"a": bad})
        self.assertTrue(any("step matchers" in p for p in problems), problems)

    def test_missing_steps_are_reported(self) -> None:
        short = conforming_output()[:-2]
        problems = compare.compare(SCENARIO, {"a": short})
        self.assertTrue(any("missing" in p and SCENARIO["steps"][-1]["id"] in p for p in problems), problems)

    def test_main_reads_files(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, lines in [("good", conforming_output()), ("bad", conforming_output()[1:])]:
                paths.append(os.path.join(d, name + ".jsonl"))
                with open(paths[-1], "w", encoding="utf-8") as f:
                    f.writelines(json.dumps(line) + "\n" for line in lines)
            scenario = os.path.join(HERE, "scenario.json")
            self.assertEqual(compare.main([scenario, paths[0]]), 0)
            self.assertEqual(compare.main([scenario, paths[0], paths[1]]), 1)


if __name__ == "__main__":
    unittest.main()
