"""Resolve what ``llmnotes finetune`` was given into a model and train/validation/test splits."""

from __future__ import annotations

import argparse
from pathlib import Path

from llmnotes.assets import REGISTRY, AssetUnavailable, resolve
from llmnotes.classification_data import (
    DataError,
    LabelledData,
    load_labelled,
    sst2_splits,
    stratified_split,
)

#: Share of the training data held out for validation when no ``--eval`` is given.
VALIDATION_FRACTION = 0.1


def resolve_model(model: str, offline: bool | None) -> str | Path:
    """A model folder for an asset name (``minilm``), else the path or hub id as given."""
    if model in REGISTRY:
        return resolve(model, offline=offline).path
    return Path(model) if Path(model).exists() else model


def finetune_inputs(
    args: argparse.Namespace, offline: bool | None = None
) -> tuple[str | Path, dict[str, LabelledData]]:
    """The model and the splits of a ``finetune`` command line.

    ``--train sst2`` takes all three SST-2 splits from the asset; otherwise ``--eval`` (or a
    seeded, stratified tenth of train) is the validation set and ``--test`` is optional.

    Raises:
        DataError: The data cannot be used (one line naming the fix).
    """
    try:
        model = resolve_model(args.model, offline)
        if args.train == ["sst2"]:
            splits = sst2_splits(resolve("sst2", offline=offline).path)
        else:
            splits = {"train": load_labelled(args.train, args.text_column, args.label_column)}
    except AssetUnavailable as error:
        raise DataError(str(error)) from None
    if args.eval:
        splits["validation"] = load_labelled(args.eval, args.text_column, args.label_column)
    elif "validation" not in splits:
        splits["train"], splits["validation"] = stratified_split(
            splits["train"], VALIDATION_FRACTION, args.seed
        )
    if args.test:
        splits["test"] = load_labelled(args.test, args.text_column, args.label_column)
    splits["train"].check_trainable("the training data")
    names = splits["train"].label_names
    for split, data in splits.items():
        if data.label_names != names:
            raise DataError(
                f"the {split} labels {data.label_names} differ from the training labels {names}"
            )
    return model, splits
