"""Make the example store: real scikit-learn training, tracked with runfolio.

Regenerate the whole store from the repository root (the runs always go next to this
file, but runfolio captures the git state of the directory it is started in)::

    python example_runs/train.py --fresh

Without ``--fresh`` the runs are added to the ones already there.

Three experiments, on datasets that ship inside scikit-learn (nothing is downloaded):

* ``Breast cancer SGD sweep``: a parent sweep run with 13 child runs of ``SGDClassifier``
  trained epoch by epoch with ``partial_fit``. One child diverges on purpose and ends FAILED.
* ``Digits MLP``: a parent sweep run with 9 child runs of ``MLPClassifier``, also epoch by
  epoch. One child is interrupted on purpose and ends KILLED.
* ``Diabetes boosting``: flat runs of ``GradientBoostingRegressor`` whose validation error
  is logged after every boosting stage, and a ``Ridge`` baseline.

Every random choice is seeded, so a regeneration logs the same params and metric values
(run ids, times and durations differ). Only the public API of runfolio is used.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display needed, and the PNG bytes do not depend on one

import matplotlib.pyplot as plt  # after use("Agg"): the backend is chosen first
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge, SGDClassifier
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import runfolio

STORE = Path(__file__).resolve().parent
SEED = 0
DPI = 80  # small figures keep the committed store small

CANCER = "Breast cancer SGD sweep"
DIGITS = "Digits MLP"
DIABETES = "Diabetes boosting"
EXPERIMENTS = (CANCER, DIGITS, DIABETES)


class TrainingDivergedError(RuntimeError):
    """The weights blew up; raised inside a run so that it ends FAILED."""


@dataclass(frozen=True)
class Split:
    """A seeded train/validation split."""

    x_train: np.ndarray
    x_val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray


def split(x: np.ndarray, y: np.ndarray, *, test_size: float, stratify: bool) -> Split:
    """Split ``x, y`` with the fixed seed."""
    parts = train_test_split(
        x, y, test_size=test_size, random_state=SEED, stratify=y if stratify else None
    )
    return Split(*parts)


def standardize(data: Split) -> Split:
    """Scale features with statistics of the training part only."""
    scaler = StandardScaler().fit(data.x_train)
    return Split(
        scaler.transform(data.x_train), scaler.transform(data.x_val), data.y_train, data.y_val
    )


# -- classifiers trained one epoch at a time -------------------------------------------


def train_classifier(
    model: Any,
    data: Split,
    labels: list[str],
    epochs: int,
    *,
    check: Callable[[Any, int], None] | None = None,
    stop_after: int | None = None,
) -> dict[str, float]:
    """Train ``model`` with one ``partial_fit`` per epoch, logging curves and artifacts.

    Args:
        check: called after each epoch's metrics are logged; raises to stop training.
        stop_after: raise KeyboardInterrupt after this epoch, as a Ctrl-C would.

    Returns:
        The final validation accuracy, log loss and macro F1.
    """
    classes = np.unique(data.y_train)
    history: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    for epoch in range(1, epochs + 1):
        model.partial_fit(data.x_train, data.y_train, classes=classes)
        point = {
            "train_loss": float(
                log_loss(data.y_train, model.predict_proba(data.x_train), labels=classes)
            ),
            "val_loss": float(
                log_loss(data.y_val, model.predict_proba(data.x_val), labels=classes)
            ),
            "val_accuracy": float(accuracy_score(data.y_val, model.predict(data.x_val))),
        }
        runfolio.log_metrics(point, step=epoch)
        for key, value in point.items():
            history[key].append(value)
        if check is not None:
            check(model, epoch)
        if epoch == stop_after:
            raise KeyboardInterrupt
    predicted = model.predict(data.x_val)
    f1_macro = float(f1_score(data.y_val, predicted, average="macro"))
    runfolio.log_metric("val_f1_macro", f1_macro, step=epochs)
    name = runfolio.active_run().name
    log_classification_artifacts(data.y_val, predicted, labels, name)
    log_learning_curve(history, name)
    return {
        "val_accuracy": history["val_accuracy"][-1],
        "val_loss": history["val_loss"][-1],
        "val_f1_macro": f1_macro,
    }


def log_classification_artifacts(
    y_true: np.ndarray, y_pred: np.ndarray, labels: list[str], title: str
) -> None:
    """Log a confusion matrix PNG, a per-class metrics CSV and a classification report JSON."""
    fig, ax = plt.subplots(figsize=(4, 3.6), dpi=DPI)
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, display_labels=labels, ax=ax, colorbar=False
    )
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    runfolio.log_figure(fig, "plots/confusion_matrix.png")
    plt.close(fig)
    report = classification_report(
        y_true, y_pred, target_names=labels, output_dict=True, zero_division=0
    )
    runfolio.log_dict(report, "classification_report.json")
    per_class = pd.DataFrame({name: report[name] for name in labels}).T.rename_axis("class")
    per_class["support"] = per_class["support"].astype(int)
    runfolio.log_text(
        per_class.to_csv(float_format="%.4f", lineterminator="\n"), "per_class_metrics.csv"
    )


def log_learning_curve(history: dict[str, list[float]], title: str) -> None:
    """Log a PNG of the per-epoch losses and validation accuracy."""
    epochs = range(1, len(history["train_loss"]) + 1)
    fig, loss_ax = plt.subplots(figsize=(4, 3), dpi=DPI)
    loss_ax.plot(epochs, history["train_loss"], color="tab:blue", label="train loss")
    loss_ax.plot(epochs, history["val_loss"], color="tab:blue", linestyle="--", label="val loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("log loss", color="tab:blue")
    loss_ax.legend(loc="center right", fontsize=7)
    acc_ax = loss_ax.twinx()
    acc_ax.plot(epochs, history["val_accuracy"], color="tab:orange")
    acc_ax.set_ylabel("val accuracy", color="tab:orange")
    loss_ax.set_title(title, fontsize=9)
    fig.tight_layout()
    runfolio.log_figure(fig, "plots/learning_curve.png")
    plt.close(fig)


def log_sweep_summary(trials: list[dict[str, Any]], metric: str, *, maximize: bool) -> None:
    """Log the parent run's comparison of its children and tag the best one."""
    finished = [t for t in trials if t["status"] == "FINISHED"]
    best = (max if maximize else min)(finished, key=lambda t: t[metric])
    table = pd.DataFrame(trials).set_index("run_name")
    runfolio.log_text(table.to_csv(float_format="%.4f", lineterminator="\n"), "sweep_results.csv")
    scores = table.loc[table["status"] == "FINISHED", metric].astype(float)
    fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=DPI)
    colors = ["tab:green" if name == best["run_name"] else "tab:gray" for name in scores.index]
    ax.barh(scores.index, scores.to_numpy(), color=colors)
    spread = max(float(scores.max() - scores.min()), 0.01)
    ax.set_xlim(max(0.0, float(scores.min()) - spread / 2), float(scores.max()) + spread / 2)
    ax.set_xlabel(metric)
    ax.tick_params(axis="y", labelsize=6)
    ax.set_title(f"{len(finished)} finished trials, best in green", fontsize=9)
    fig.tight_layout()
    runfolio.log_figure(fig, "plots/sweep.png")
    plt.close(fig)
    runfolio.log_dict(
        {"best": best, "metric": metric, "trials": len(trials), "finished": len(finished)},
        "sweep_summary.json",
    )
    runfolio.log_metrics({f"best_{metric}": best[metric], "trials_finished": len(finished)})
    runfolio.set_tag("best_run", best["run_name"])


# -- experiment 1: breast cancer, SGDClassifier swept over loss, L2 and schedule ---------

CANCER_GRID = {
    "loss": ["log_loss", "modified_huber"],
    "alpha": [1e-4, 1e-3, 1e-2],
    "optimizer": [
        {"name": "sgd", "learning_rate": "constant", "eta0": 0.01},
        {"name": "sgd", "learning_rate": "invscaling", "eta0": 0.1, "power_t": 0.5},
    ],
}
CANCER_EPOCHS = 30


def train_sgd(params: dict[str, Any], data: Split, labels: list[str]) -> dict[str, float]:
    """Log ``params``, train an SGDClassifier from them, and log the model.

    Raises:
        TrainingDivergedError: the weights exploded (checked after every epoch).
    """
    runfolio.log_params(params)
    opt = params["optimizer"]
    model = SGDClassifier(
        loss=params["model"]["loss"],
        alpha=params["model"]["alpha"],
        penalty=params["model"]["penalty"],
        learning_rate=opt["learning_rate"],
        eta0=opt["eta0"],
        power_t=opt.get("power_t", 0.5),
        random_state=params["seed"],
    )
    final = train_classifier(model, data, labels, params["epochs"], check=_check_weights)
    runfolio.log_model(model, "model", description="SGDClassifier on standardised features")
    return final


def _check_weights(model: SGDClassifier, epoch: int) -> None:
    """Raise TrainingDivergedError once any weight exceeds 1e3 in absolute value."""
    weight = float(np.abs(model.coef_).max())
    if not np.isfinite(weight) or weight > 1e3:
        raise TrainingDivergedError(f"epoch {epoch}: largest weight is {weight:.3g}")


def run_cancer_sweep() -> None:
    """The parent sweep run and its children, one of which fails on purpose."""
    runfolio.set_experiment(
        CANCER,
        description=(
            "Linear classifiers for the **breast cancer** dataset (569 tumours, 30 "
            "features, malignant or benign), trained with `SGDClassifier.partial_fit` one "
            "epoch at a time.\n\n"
            "The sweep crosses the loss, the L2 strength `alpha` and the learning-rate "
            "schedule, and ranks trials by validation log loss (accuracies tie often on 171 "
            "validation tumours). One trial uses unscaled features and a huge step size: it "
            "diverges and ends **FAILED**, as a real sweep sometimes does."
        ),
        primary_metric="val_loss",
        direction="minimize",
    )
    dataset = load_breast_cancer()
    labels = [str(name) for name in dataset.target_names]
    raw = split(dataset.data, dataset.target, test_size=0.3, stratify=True)
    data = standardize(raw)
    tags = {
        "team": "tabular",
        "dataset": "breast_cancer",
        "sweep": "cancer-sgd-grid",
        "model": "SGDClassifier",
    }
    trials: list[dict[str, Any]] = []
    with runfolio.start_run(
        run_name="cancer-sgd-grid",
        tags={**tags, "role": "sweep"},
        description=(
            "Grid sweep parent. Its children cover every combination of\n\n"
            "| param | values |\n|---|---|\n"
            "| `model.loss` | log_loss, modified_huber |\n"
            "| `model.alpha` | 1e-4, 1e-3, 1e-2 |\n"
            "| `optimizer` | constant (eta0 0.01), invscaling (eta0 0.1) |\n\n"
            "plus one deliberately diverging trial. `sweep_results.csv` compares them."
        ),
    ):
        runfolio.log_params(
            {"sweep": {"strategy": "grid", "grid": CANCER_GRID, "epochs": CANCER_EPOCHS}}
        )
        for loss, alpha, optimizer in itertools.product(*CANCER_GRID.values()):
            params = _sgd_params(loss, alpha, optimizer, scaling="standard")
            name = f"{loss}-a{alpha:g}-{optimizer['learning_rate']}"
            with runfolio.start_run(run_name=name, nested=True, tags={**tags, "role": "trial"}):
                final = train_sgd(params, data, labels)
            trials.append({"run_name": name, "status": "FINISHED", **final})
        trials.append(_diverging_trial(raw, labels, tags))
        log_sweep_summary(trials, "val_loss", maximize=False)


def _sgd_params(
    loss: str, alpha: float, optimizer: dict[str, Any], *, scaling: str
) -> dict[str, Any]:
    """The params of one SGD trial (nested: model, optimizer, data)."""
    return {
        "model": {"loss": loss, "alpha": alpha, "penalty": "l2"},
        "optimizer": optimizer,
        "data": {"dataset": "breast_cancer", "test_size": 0.3, "scaling": scaling},
        "epochs": CANCER_EPOCHS,
        "seed": SEED,
    }


def _diverging_trial(raw: Split, labels: list[str], tags: dict[str, str]) -> dict[str, Any]:
    """Run the trial that fails on purpose, and describe it for the sweep summary.

    Unscaled features (up to ~4,000) with a constant step of 1,000 make the weights
    explode in the first epoch: ``train_sgd`` raises inside the ``with`` block, runfolio
    ends the run as FAILED and re-raises, and the sweep catches the error and goes on.
    """
    optimizer = {"name": "sgd", "learning_rate": "constant", "eta0": 1000.0}
    name = "diverging-eta1000-unscaled"
    try:
        with runfolio.start_run(
            run_name=name,
            nested=True,
            tags={**tags, "role": "trial"},
            description="Deliberately bad: unscaled features and `eta0 = 1000`. Meant to **fail**.",
        ):
            train_sgd(_sgd_params("log_loss", 1e-4, optimizer, scaling="none"), raw, labels)
    except TrainingDivergedError as exc:
        print(f"  {name}: FAILED as intended ({exc})")
    return {"run_name": name, "status": "FAILED"}


# -- experiment 2: digits, MLPClassifier swept over width and optimiser --------------------

DIGITS_OPTIMIZERS = [
    {"name": "adam", "lr": 0.001},
    {"name": "adam", "lr": 0.01},
    {"name": "sgd", "lr": 0.05, "momentum": 0.9},
    {"name": "sgd", "lr": 0.2, "momentum": 0.9},
]
DIGITS_HIDDEN = [16, 32]
DIGITS_EPOCHS = 25


def train_mlp(
    params: dict[str, Any], data: Split, *, stop_after: int | None = None
) -> dict[str, float]:
    """Log ``params``, train an MLPClassifier from them, and log the model."""
    runfolio.log_params(params)
    opt = params["optimizer"]
    model = MLPClassifier(
        hidden_layer_sizes=(params["hidden_units"],),
        solver=opt["name"],
        learning_rate_init=opt["lr"],
        momentum=opt.get("momentum", 0.9),
        alpha=params["l2"],
        batch_size=params["batch_size"],
        random_state=params["seed"],
    )
    labels = [str(digit) for digit in range(10)]
    final = train_classifier(model, data, labels, params["epochs"], stop_after=stop_after)
    runfolio.log_model(model, "model", input_shape=[None, int(data.x_train.shape[1])])
    return final


def run_digits_sweep() -> None:
    """The parent sweep run, its children, and one trial interrupted on purpose."""
    runfolio.set_experiment(
        DIGITS,
        description=(
            "A one-hidden-layer perceptron on the 8x8 **digits** images (1,797 samples, "
            "64 pixel features scaled to [0, 1]), trained one epoch per `partial_fit`.\n\n"
            "Compares widths and optimisers. One trial is stopped by hand (a simulated "
            "Ctrl-C) and ends **KILLED**."
        ),
        primary_metric="val_accuracy",
        direction="maximize",
    )
    digits = load_digits()
    data = split(digits.data / 16.0, digits.target, test_size=0.25, stratify=True)
    tags = {
        "team": "vision",
        "dataset": "digits",
        "sweep": "digits-mlp-grid",
        "model": "MLPClassifier",
    }
    trials: list[dict[str, Any]] = []
    with runfolio.start_run(
        run_name="digits-mlp-grid",
        tags={**tags, "role": "sweep"},
        description="Grid sweep parent: hidden units x optimiser. See `sweep_results.csv`.",
    ):
        runfolio.log_params(
            {
                "sweep": {
                    "strategy": "grid",
                    "hidden_units": DIGITS_HIDDEN,
                    "optimizers": DIGITS_OPTIMIZERS,
                }
            }
        )
        for hidden, optimizer in itertools.product(DIGITS_HIDDEN, DIGITS_OPTIMIZERS):
            name = f"h{hidden}-{optimizer['name']}-lr{optimizer['lr']:g}"
            with runfolio.start_run(run_name=name, nested=True, tags={**tags, "role": "trial"}):
                final = train_mlp(_mlp_params(hidden, optimizer), data)
            trials.append({"run_name": name, "status": "FINISHED", **final})
        trials.append(_interrupted_trial(data, tags))
        log_sweep_summary(trials, "val_accuracy", maximize=True)


def _mlp_params(hidden: int, optimizer: dict[str, Any]) -> dict[str, Any]:
    """The params of one digits trial."""
    return {
        "hidden_units": hidden,
        "optimizer": optimizer,
        "l2": 1e-4,
        "batch_size": 64,
        "epochs": DIGITS_EPOCHS,
        "seed": SEED,
        "data": {"dataset": "digits", "test_size": 0.25, "scaling": "divide-by-16"},
    }


def _interrupted_trial(data: Split, tags: dict[str, str]) -> dict[str, Any]:
    """Run a trial that a simulated Ctrl-C stops after 6 epochs, so it ends KILLED.

    A KeyboardInterrupt leaving a ``with start_run()`` block ends the run as KILLED and is
    re-raised; here it is caught so that the script goes on.
    """
    name = "h64-adam-lr0.001-interrupted"
    try:
        with runfolio.start_run(
            run_name=name,
            nested=True,
            tags={**tags, "role": "trial"},
            description="A wider net, stopped by hand after 6 of 25 epochs (simulated Ctrl-C).",
        ):
            train_mlp(_mlp_params(64, DIGITS_OPTIMIZERS[0]), data, stop_after=6)
    except KeyboardInterrupt:
        print(f"  {name}: KILLED as intended (simulated Ctrl-C)")
    return {"run_name": name, "status": "KILLED"}


# -- experiment 3: diabetes, gradient boosting with per-stage validation error -------------

BOOSTING_GRID = {"learning_rate": [0.05, 0.1], "max_depth": [2, 3], "subsample": [1.0, 0.7]}
BOOSTING_STAGES = 80


def train_boosting(params: dict[str, Any], data: Split, feature_names: list[str]) -> None:
    """Fit a GradientBoostingRegressor, logging train and validation RMSE after every stage."""
    runfolio.log_params(params)
    model = GradientBoostingRegressor(random_state=params["seed"], **params["booster"])
    model.fit(data.x_train, data.y_train)
    stages = zip(model.staged_predict(data.x_train), model.staged_predict(data.x_val), strict=True)
    val_curve: list[float] = []
    for stage, (train_pred, val_pred) in enumerate(stages, start=1):
        point = {
            "train_rmse": float(root_mean_squared_error(data.y_train, train_pred)),
            "val_rmse": float(root_mean_squared_error(data.y_val, val_pred)),
        }
        runfolio.log_metrics(point, step=stage)
        val_curve.append(point["val_rmse"])
    final = log_regression_results(model, data, step=len(val_curve), curve_logged=True)
    importances = model.feature_importances_.round(4).tolist()
    runfolio.log_dict(
        {
            "metrics": final,
            "best_stage": int(np.argmin(val_curve)) + 1,
            "best_stage_val_rmse": min(val_curve),
            "feature_importances": dict(zip(feature_names, importances, strict=True)),
        },
        "report.json",
    )
    runfolio.log_model(model, "model")


def log_regression_results(
    model: Any, data: Split, *, step: int, curve_logged: bool = False
) -> dict[str, float]:
    """Log final validation metrics, a predicted-vs-actual PNG and a predictions CSV.

    Args:
        curve_logged: ``val_rmse`` was logged at every stage already; do not repeat it.
    """
    predicted = model.predict(data.x_val)
    final = {
        "val_rmse": float(root_mean_squared_error(data.y_val, predicted)),
        "val_mae": float(mean_absolute_error(data.y_val, predicted)),
        "val_r2": float(r2_score(data.y_val, predicted)),
    }
    runfolio.log_metrics(
        {k: v for k, v in final.items() if not (curve_logged and k == "val_rmse")}, step=step
    )
    fig, ax = plt.subplots(figsize=(3.6, 3.4), dpi=DPI)
    ax.scatter(data.y_val, predicted, s=8, alpha=0.7)
    low, high = float(data.y_val.min()), float(data.y_val.max())
    ax.plot([low, high], [low, high], color="gray", linewidth=1)
    ax.set_xlabel("actual progression")
    ax.set_ylabel("predicted")
    ax.set_title(f"{runfolio.active_run().name} (RMSE {final['val_rmse']:.1f})", fontsize=9)
    fig.tight_layout()
    runfolio.log_figure(fig, "plots/predicted_vs_actual.png")
    plt.close(fig)
    table = pd.DataFrame({"actual": data.y_val, "predicted": predicted.round(2)})
    runfolio.log_text(table.to_csv(index_label="row", lineterminator="\n"), "predictions.csv")
    return final


def run_boosting() -> None:
    """A linear baseline and a grid of boosted trees, as flat runs (no parent)."""
    runfolio.set_experiment(
        DIABETES,
        description=(
            "Regression of disease progression one year after baseline on the **diabetes** "
            "dataset (442 patients, 10 features).\n\n"
            "A `Ridge` baseline, then `GradientBoostingRegressor` with validation RMSE "
            "logged after every boosting stage (`staged_predict`), so over-fitting shows "
            "as a rising curve."
        ),
        primary_metric="val_rmse",
        direction="minimize",
    )
    diabetes = load_diabetes()
    data = split(diabetes.data, diabetes.target, test_size=0.25, stratify=False)
    features = [str(name) for name in diabetes.feature_names]
    tags = {"team": "tabular", "dataset": "diabetes"}
    with runfolio.start_run(
        run_name="ridge-baseline",
        tags={**tags, "model": "Ridge", "role": "baseline"},
        description="Linear baseline every boosted model must beat. `alpha` picked by hand.",
    ):
        runfolio.log_params({"model": {"name": "ridge", "alpha": 0.1}, "seed": SEED})
        model = Ridge(alpha=0.1).fit(data.x_train, data.y_train)
        final = log_regression_results(model, data, step=0)
        coefficients = dict(zip(features, model.coef_.round(3).tolist(), strict=True))
        runfolio.log_dict({"metrics": final, "coefficients": coefficients}, "report.json")
        runfolio.log_model(model, "model")
    for lr, depth, subsample in itertools.product(*BOOSTING_GRID.values()):
        params = {
            "booster": {
                "n_estimators": BOOSTING_STAGES,
                "learning_rate": lr,
                "max_depth": depth,
                "subsample": subsample,
            },
            "seed": SEED,
        }
        stochastic = subsample < 1.0
        with runfolio.start_run(
            run_name=f"gbr-lr{lr:g}-d{depth}-ss{subsample:g}",
            tags={
                **tags,
                "model": "GradientBoostingRegressor",
                "role": "trial",
                "sweep": "gbr-grid",
            },
            description=(
                f"Stochastic gradient boosting: each tree sees {subsample:.0%} of the rows."
                if stochastic
                else None
            ),
        ):
            train_boosting(params, data, features)


# -- entry point ----------------------------------------------------------------------


def delete_owned_experiments() -> None:
    """Delete the folders of this script's experiments (and nothing else in the store)."""
    store = runfolio.get_store()
    for name in EXPERIMENTS:
        try:
            folder = store.get_experiment(name).path
        except runfolio.ExperimentNotFoundError:
            continue
        if folder.resolve().parent != STORE:
            raise SystemExit(f"refusing to delete {folder}: it is not directly inside {STORE}")
        shutil.rmtree(folder)
        print(f"deleted {folder.relative_to(STORE)}/")


def report_dirty_tree() -> None:
    """Warn when runs captured a patch of uncommitted work (it makes every run bigger)."""
    runs = runfolio.search_runs(experiment_names=list(EXPERIMENTS), output_format="list")
    patched = [run for run in runs if run.git.get("patch")]
    if patched:
        print(
            f"note: the working tree was dirty, so {len(patched)} runs hold captured/git.patch; "
            "commit first and regenerate for a lean example store"
        )


def main(argv: list[str] | None = None) -> int:
    """Train everything and write the runs into this script's folder."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="delete this script's experiments first (a clean regeneration)",
    )
    args = parser.parse_args(argv)
    runfolio.set_store(STORE)
    if args.fresh:
        delete_owned_experiments()
    steps: list[tuple[str, Callable[[], None]]] = [
        (CANCER, run_cancer_sweep),
        (DIGITS, run_digits_sweep),
        (DIABETES, run_boosting),
    ]
    for title, step in steps:
        print(f"{title} ...")
        step()
    runs = runfolio.search_runs(experiment_names=list(EXPERIMENTS))
    print(f"{len(runs)} runs in {STORE}: {runs['status'].value_counts().to_dict()}")
    report_dirty_tree()
    return 0


if __name__ == "__main__":
    sys.exit(main())
