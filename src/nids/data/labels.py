"""The class of every row of a label column, under the label policy of the config.

Spellings are resolved once per distinct value (`schema.parse_label`), then spread to the rows
with the column's dictionary encoding. A row is an attempt when its label ends in
"- Attempted" or its "Attempted Category" (corrected CIC-IDS-2017) is not -1.
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nids.config import LabelPolicy
from nids.data.schema import CICIDS2017_LABELS, LABELS, decode_label, label_class, parse_label

logger = logging.getLogger(__name__)


def _code(label: str, attempted: bool, policy: LabelPolicy) -> int:
    """Position of the row's class in LABELS; -1 when the policy drops the row."""
    name = label_class(label, attempted, policy.infiltration_portscan, policy.attempted)
    return -1 if name is None else LABELS.index(name)


def _attempts(flags: np.ndarray, indices: np.ndarray, category: pa.ChunkedArray | None,
              ) -> np.ndarray:
    attempted = flags[indices]
    if category is not None:
        by_category = pc.fill_null(pc.greater_equal(category, 0), False)
        attempted = attempted | by_category.to_numpy(zero_copy_only=False)
    return attempted


def label_codes(raw: pa.ChunkedArray, category: pa.ChunkedArray | None,
                policy: LabelPolicy, name: str) -> np.ndarray:
    """Class codes (positions in LABELS, -1 = dropped) of the raw label bytes of a file."""
    encoded = pc.dictionary_encode(raw).combine_chunks()
    spellings = [decode_label(v.as_py()) for v in encoded.dictionary]
    parsed = [parse_label(s) for s in spellings]
    unknown = [s for s, p in zip(spellings, parsed, strict=True) if p is None]
    if unknown:
        raise ValueError(
            f"{name}: unknown label(s) {unknown[:5]!r} in the label column. Expected one of "
            f"the CICIDS2017 labels ({', '.join(CICIDS2017_LABELS)}), their spellings in the "
            "corrected CIC-IDS-2017 or CSE-CIC-IDS2018, or '<label> - Attempted'; fix or drop "
            "those rows."
        )
    labels = [label for label, _ in parsed]
    plain = np.array([_code(label, False, policy) for label in labels], np.int8)
    tried = np.array([_code(label, True, policy) for label in labels], np.int8)
    flags = np.array([attempted for _, attempted in parsed], bool)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    attempted = _attempts(flags, indices, category)
    codes = np.where(attempted, tried[indices], plain[indices])
    if attempted.any():
        logger.info("%s: %d attempted attack(s) (no attack reached its target) read as %s",
                    name, int(attempted.sum()), policy.attempted.value)
    if (codes < 0).any():
        logger.info("%s: %d row(s) dropped by the label policy", name, int((codes < 0).sum()))
    return codes
