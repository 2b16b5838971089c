"""The CLINC150 benchmark's pieces, without training: loading the splits,
scoring, a threshold chosen on val alone, the pipeline variant, the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools import clinc, clinc_report
from devtools.__main__ import main
from devtools.clinc import OOS, Clinc, ClincDataError, Prediction

TINY = {
    "train": [["book a table for two", "restaurant_reservation"], ["what is my balance", "balance"]],
    "val": [["reserve a table", "restaurant_reservation"], ["how much money do i have", "balance"]],
    "test": [["table for four tonight", "restaurant_reservation"], ["balance please", "balance"]],
    "oos_train": [["how tall is everest", OOS]],
    "oos_val": [["who won the cup", OOS]],
    "oos_test": [["sing me a song", OOS], ["what is a quark", OOS]],
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "data_full.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _clinc(val: list[tuple[str, str]], test: list[tuple[str, str]]) -> Clinc:
    return Clinc(train=[], val=[p for p in val if p[1] != OOS], test=[p for p in test if p[1] != OOS],
                 oos_train=[], oos_val=[p for p in val if p[1] == OOS], oos_test=[p for p in test if p[1] == OOS])


def test_the_splits_load_and_oos_train_joins_training(tmp_path: Path) -> None:
    data = clinc.load_clinc(_write(tmp_path, TINY))
    assert data.training() == [("book a table for two", "restaurant_reservation"), ("what is my balance", "balance"),
                               ("how tall is everest", OOS)]
    assert data.validation()[-1] == ("who won the cup", OOS)
    assert [intent for _, intent in data.testing()] == ["restaurant_reservation", "balance", OOS, OOS]


def test_a_missing_split_or_a_labelled_oos_query_is_named(tmp_path: Path) -> None:
    without = {key: value for key, value in TINY.items() if key != "oos_val"}
    with pytest.raises(ClincDataError, match="oos_val"):
        clinc.load_clinc(_write(tmp_path, without))
    mislabelled = TINY | {"oos_test": [["sing me a song", "music"]]}
    with pytest.raises(ClincDataError, match="oos_test"):
        clinc.load_clinc(_write(tmp_path, mislabelled))
    with pytest.raises(ClincDataError, match=clinc.DATA_ENV):
        clinc.load_clinc(tmp_path / "absent.json")


def test_the_data_path_is_the_option_then_the_environment_then_the_shared_copy(monkeypatch) -> None:
    monkeypatch.delenv(clinc.DATA_ENV, raising=False)
    assert clinc.data_path() == clinc.DEFAULT_DATA
    monkeypatch.setenv(clinc.DATA_ENV, "elsewhere/data.json")
    assert clinc.data_path() == Path("elsewhere/data.json")
    assert clinc.data_path("given.json") == Path("given.json")


def test_an_in_scope_query_called_oos_is_wrong_and_oos_recall_counts_oos_only() -> None:
    golds = ["balance", "balance", "timer", "timer", OOS, OOS, OOS, OOS]
    guesses = ["balance", OOS, "timer", "balance", OOS, OOS, "timer", OOS]
    figures = clinc.score(golds, guesses)
    assert figures.in_scope_accuracy == 0.5
    assert figures.oos_recall == 0.75
    assert (figures.in_scope, figures.out_of_scope) == (4, 4)


def test_below_the_threshold_a_query_is_out_of_scope() -> None:
    assert clinc.apply_threshold(Prediction("balance", 0.55), 0.5) == "balance"
    assert clinc.apply_threshold(Prediction("balance", 0.45), 0.5) == OOS
    assert clinc.apply_threshold(Prediction(OOS, 0.99), 0.5) == OOS


def test_the_lowest_threshold_that_catches_the_oos_query_and_keeps_the_floor() -> None:
    golds = ["balance", "timer", "timer", OOS]
    predictions = [Prediction("balance", 0.9), Prediction("timer", 0.6), Prediction("timer", 0.35),
                   Prediction("balance", 0.3)]
    # 0.31 catches the oos query and keeps all three in-scope ones; from 0.36
    # an in-scope query is lost for nothing.
    assert clinc.choose_threshold(golds, predictions) == 0.31


def test_one_oos_catch_is_not_worth_two_in_scope_queries() -> None:
    # The mean of in-scope accuracy and oos recall would choose 0.51 here.
    golds = ["balance", "timer", "timer", OOS]
    predictions = [Prediction("balance", 0.3), Prediction("timer", 0.4), Prediction("timer", 0.9),
                   Prediction("balance", 0.5)]
    assert clinc.choose_threshold(golds, predictions) == 0.0


def test_the_threshold_buys_oos_recall_down_to_the_accuracy_floor_on_val() -> None:
    golds = ["balance"] * 50 + [OOS] * 6
    confident = [Prediction("balance", 0.9)] * 48
    oos = [Prediction("balance", 0.45)] * 5 + [Prediction("balance", 0.7)]
    # 96% in-scope at 0.71 is above the 94% floor: every oos query is caught,
    # though that loses two in-scope queries to win one oos more than 0.46.
    assert clinc.choose_threshold(golds, confident + [Prediction("balance", 0.5)] * 2 + oos) == 0.71
    # Four lost would be 92%, below the floor: 0.46 is as far as it goes.
    unsure = [Prediction("balance", 0.9)] * 46 + [Prediction("balance", 0.5)] * 4
    assert clinc.choose_threshold(golds, unsure + oos) == 0.46


def test_without_any_threshold_above_the_floor_the_most_val_queries_right_wins() -> None:
    golds = ["balance", "timer", OOS]
    predictions = [Prediction("timer", 0.9), Prediction("timer", 0.6), Prediction("balance", 0.3)]
    assert clinc.choose_threshold(golds, predictions) == 0.31  # 50% in-scope at best


def _fake_predictor(confidences: dict[str, Prediction]) -> clinc.Predictor:
    return lambda texts: [confidences[text] for text in texts]


VAL = [("v in", "balance"), ("v oos", OOS)]
TEST = [("t in", "balance"), ("t oos", OOS)]


@pytest.mark.parametrize("test_confidences", [(0.95, 0.9), (0.2, 0.1), (0.5, 0.7)])
def test_the_chosen_threshold_depends_on_val_alone(test_confidences: tuple[float, float]) -> None:
    val = {"v in": Prediction("balance", 0.8), "v oos": Prediction("balance", 0.4)}
    test = {"t in": Prediction("balance", test_confidences[0]), "t oos": Prediction("balance", test_confidences[1])}
    results = clinc.evaluate(_fake_predictor(val | test), _clinc(VAL, TEST))
    assert results["threshold"] == 0.41
    in_scope_right = test_confidences[0] >= 0.41
    assert results["test"]["in_scope_accuracy"] == float(in_scope_right)
    assert results["test"]["oos_recall"] == float(test_confidences[1] < 0.41)
    assert results["test_no_threshold"]["oos_recall"] == 0.0


def test_other_val_confidences_move_the_threshold() -> None:
    val = {"v in": Prediction("balance", 0.8), "v oos": Prediction("balance", 0.6)}
    test = {"t in": Prediction("balance", 0.9), "t oos": Prediction("balance", 0.2)}
    assert clinc.evaluate(_fake_predictor(val | test), _clinc(VAL, TEST))["threshold"] == 0.61


def test_the_variant_is_config_yml_without_the_council_only_components() -> None:
    import yaml

    base = yaml.safe_load(clinc.CONFIG.read_text(encoding="utf-8"))
    variant = clinc.variant_config()
    kept = [c for c in base["pipeline"] if not clinc.dropped(c)]
    assert [c["name"] for c in variant["pipeline"]] == [c["name"] for c in kept]
    assert len(kept) == len(base["pipeline"]) - len(clinc.DROPPED)
    assert any(c["name"] == "bot.nlu.linear_classifier.LinearIntentClassifier" for c in variant["pipeline"])
    assert not any(c["name"] in ("FallbackClassifier", "bot.nlu.components.UnreadableInputGuard")
                   for c in variant["pipeline"])
    assert "policies" not in variant and variant["language"] == base["language"]
    for name, settings in clinc.CHANGES.items():
        changed = next(c for c in variant["pipeline"] if c["name"] == name)
        assert all(changed[key] == value for key, (value, _) in settings.items())
    assert len(clinc.differences()) == len(clinc.DROPPED) + sum(len(s) for s in clinc.CHANGES.values())


def test_training_data_survives_rasas_yaml_round_trip(tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [("what's 'life is good': in french? #now", "translate"), ("- yes: [no]", OOS)]
    clinc.write_training_data(examples, tmp_path / "nlu.yml")
    loaded = load_data(str(tmp_path / "nlu.yml"))
    expected = [("what's 'life is good': in french? #now", "translate"), ("- yes: [no]", "out_of_scope")]
    assert sorted((m.get("text"), m.get("intent")) for m in loaded.training_examples) == sorted(expected)


def _figures() -> dict:
    row = {"in_scope_accuracy": 0.941, "oos_recall": 0.62, "in_scope": 4500, "out_of_scope": 1000}
    return {"test": row, "test_no_threshold": row | {"oos_recall": 0.41}, "threshold": 0.47,
            "threshold_rule": clinc.THRESHOLD_RULE, "training_seconds": 600.0, "training_examples": 15100,
            "load_average": 2.5, "latency_p50_ms": 20.0, "latency_p95_ms": 30.0, "latency_queries": 500,
            "batch_size": clinc.BATCH, "batch_throughput_per_s": 90.0,
            "weight": 3.0, "val_by_weight": [{"weight": 3.0, "threshold": 0.47, "in_scope_accuracy": 0.95,
                                              "oos_recall": 0.65}],
            "val_sweep": [{"threshold": 0.0, "in_scope_accuracy": 0.96, "oos_recall": 0.4},
                          {"threshold": 0.47, "in_scope_accuracy": 0.95, "oos_recall": 0.65}],
            "differences_from_config_yml": clinc.differences(), "pipeline": clinc.variant_config()["pipeline"]}


def test_the_report_puts_our_rows_beside_the_published_table() -> None:
    report = clinc_report.render_markdown(_figures())
    for name, scheme, accuracy, recall in clinc.PUBLISHED:
        assert f"| {name} | {scheme} | {accuracy} | {recall} |" in report
    assert "| oos-train | **94.1** | **41.0** |" in report
    assert "| oos-train + oos weight 3 and threshold 0.47 on val | **94.1** | **62.0** |" in report
    assert "| 3 | 0.47 | 95.0 | 65.0 |" in report
    assert "| 0.47 (chosen) | 95.0 | 65.0 |" in report
    assert "| training_seconds | <= 900.0 | 600.0 | yes |" in report
    assert "- name: bot.nlu.linear_classifier.LinearIntentClassifier" in report


def test_a_missed_target_says_no() -> None:
    figures = _figures()
    figures["test"] = figures["test"] | {"oos_recall": 0.55}
    assert "| oos_recall | >= 0.6 | 0.55 | NO |" in clinc_report.render_markdown(figures)


def test_the_cli_names_missing_data_and_refuses_skip_training(tmp_path: Path, capsys) -> None:
    assert main(["bench", "clinc", "--data", str(tmp_path / "absent.json")]) == 1
    assert clinc.DATA_ENV in capsys.readouterr().out
    assert main(["bench", "clinc", "--skip-training"]) == 2


@pytest.mark.skipif(not clinc.DEFAULT_DATA.is_file(), reason="the shared CLINC150 data is not on this machine")
def test_the_shared_data_has_the_published_shape() -> None:
    data = clinc.load_clinc(clinc.DEFAULT_DATA)
    sizes = [len(getattr(data, split)) for split in clinc.SPLITS]
    assert sizes == [15000, 3000, 4500, 100, 100, 1000]
    assert len({intent for _, intent in data.train}) == 150


def test_a_weighed_up_oos_takes_the_top_or_lowers_the_winners_confidence() -> None:
    # balance 0.5, oos 0.2: weighed 2, oos is 0.4 of 1.2 and balance 0.5 of 1.2.
    kept = clinc.weigh(Prediction("balance", 0.5, 0.2), 2.0)
    assert kept.intent == "balance" and kept.confidence == pytest.approx(0.5 / 1.2)
    assert kept.out_of_scope == pytest.approx(0.4 / 1.2)
    # weighed 3, oos is 0.6 of 1.4 and beats balance.
    taken = clinc.weigh(Prediction("balance", 0.5, 0.2), 3.0)
    assert taken.intent == OOS and taken.confidence == pytest.approx(0.6 / 1.4)
    on_top = clinc.weigh(Prediction(OOS, 0.5, 0.5), 3.0)
    assert on_top.intent == OOS and on_top.confidence == pytest.approx(1.5 / 2.0)
    assert clinc.weigh(Prediction("balance", 0.5, 0.2), 1.0) == Prediction("balance", 0.5, 0.2)


def test_the_weight_is_chosen_on_val_with_the_threshold_and_ties_go_to_the_lowest() -> None:
    golds = ["balance"] * 50 + [OOS] * 4
    in_scope = [Prediction("balance", 0.9, 0.05)] * 45 + [Prediction("balance", 0.55, 0.05)] * 5
    # These oos queries are confidently wrong: no threshold catches them
    # without losing five in-scope ones (90%, below the floor), but their
    # oos share is high.
    oos = [Prediction("balance", 0.6, 0.35)] * 4
    weight, threshold = clinc.choose_setting(golds, in_scope + oos)
    assert weight == 2.0  # 0.7 > 0.6 at weight 2; weight 1 catches nothing
    assert clinc.figures_at(golds, in_scope + oos, threshold, weight).oos_recall == 1.0
    # Where no weight helps, the lowest (1) is kept.
    plain = [Prediction("balance", 0.3, 0.01)] * 4
    assert clinc.choose_setting(golds, in_scope + plain)[0] == 1.0


def test_the_predictor_reads_out_of_scope_back_as_oos_with_its_confidence() -> None:
    ranking = [{"name": "balance", "confidence": 0.7}, {"name": "out_of_scope", "confidence": 0.2}]
    assert clinc.RasaPredictor._top({"name": "balance", "confidence": 0.7}, ranking) == Prediction("balance", 0.7, 0.2)
    assert clinc.RasaPredictor._top({"name": "out_of_scope", "confidence": 0.8},
                                    [{"name": "out_of_scope", "confidence": 0.8}]) == Prediction(OOS, 0.8, 0.8)
    assert clinc.RasaPredictor._top({"name": "balance", "confidence": 0.9}) == Prediction("balance", 0.9, 0.0)
