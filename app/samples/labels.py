"""Tissue label table of the lumbar phantom, and the per-tissue CT / MR / X-ray properties.

``label_volume`` (app.samples.phantom) returns one uint8 label per voxel from this table. CT
numbers, MR signal per sequence and the X-ray attenuation all derive from the label, so the
CT, the MR and the radiographs of a case show the same anatomy.

| label | name               | CT HU (adult / adolescent) | T1  | T2  | STIR |
|------:|--------------------|----------------------------|-----|-----|------|
| 0     | air                | -1000                      | 0   | 0   | 0    |
| 1     | skin               | 40                         | 420 | 300 | 260  |
| 2     | fat                | -100                       | 900 | 640 | 35   |
| 3     | muscle             | 50                         | 290 | 210 | 170  |
| 4     | viscera            | 35                         | 310 | 300 | 150  |
| 5     | cortical bone      | 1500                       | 25  | 20  | 20   |
| 6     | endplate           | 1100                       | 40  | 35  | 30   |
| 7     | cancellous bone    | 230 / 320                  | 660 / 500 | 430 / 360 | 110 / 170 |
| 8     | edematous marrow   | 260 / 340                  | 230 | 700 | 760  |
| 9     | sclerotic bone     | 1150                       | 60  | 45  | 40   |
| 10    | fracture gap (active, fluid)    | 30            | 190 | 820 | 900  |
| 11    | fracture gap (chronic, fibrous) | 60            | 260 | 260 | 240  |
| 12    | disc annulus       | 95                         | 280 | 230 | 190  |
| 13    | disc nucleus       | 80                         | 330 | 900 | 780  |
| 14    | degenerated nucleus| 100                        | 290 | 190 | 160  |
| 15    | CSF (thecal sac)   | 8                          | 100 | 1000| 960  |
| 16    | epidural fat       | -100                       | 880 | 620 | 35   |
| 17    | nerve (conus, cauda equina roots) | 35          | 360 | 260 | 230  |
| 18    | great vessel (flowing blood)      | 40          | 60  | 40  | 40   |
| 19    | bowel gas                         | -1000       | 0   | 0   | 0    |
| 20    | bowel fluid                       | 12          | 110 | 750 | 600  |
| 21    | faeces (colon content)            | 40          | 400 | 260 | 190  |
| 22    | fascia (superficial, in subcutaneous fat) | 50  | 150 | 110 | 80   |
| 23    | chyme (small-bowel content, semi-fluid)   | 25  | 290 | 420 | 260  |
| 24    | kidney (parenchyma, unenhanced)           | 32  | 330 | 480 | 420  |
| 25    | muscle with fatty infiltration            | 10  | 450 | 330 | 120  |
| 26    | ligament (ligamentum flavum, interspinous) | 65 | 190 | 150 | 120  |
| 27    | vein (IVC, iliac veins: slow flow)         | 38 | 230 | 330 | 300  |

Values are plausible clinical ranges (cortical bone ~1000-1800 HU, cancellous ~150-350 HU,
disc ~70-110 HU, muscle ~40-60 HU, fat ~-100 HU, CSF ~0-15 HU); MR values are arbitrary units of
a 1.5 T spin-echo look (T1: fat brightest, adult marrow moderately bright, adolescent marrow
less so (more red marrow), disc and muscle intermediate, CSF dark; fat bright on T1 and FSE
T2, fluid and edema bright on T2 and STIR, edema dark on T1, fat nulled on STIR; flowing
blood is a flow void on spin echo). The viscera label is the bowel wall and the content of
collapsed loops (app.samples.bowel): intermediate on T1 and T2, darker than muscle on STIR;
bowel fluid is water (dark T1, bright T2 / STIR), faeces intermediate and mottled with gas,
bowel gas black on every sequence; the superficial fascia is fibrous (dark on MR). Chyme is the
semi-fluid content of small-bowel loops (T2 a little above muscle, not as bright as water);
on T1 the wall and the
contents of collapsed and chyme-filled loops are close (310 / 290: with the wall at 380 every
loop read as a ring on T1, where real bowel is a featureless intermediate); the kidney is
unenhanced parenchyma; fatty muscle is the paraspinal muscles' fatty
infiltration (between muscle and fat). Ligament (the ligamentum flavum behind the thecal sac
at each interlaminar level, the interspinous ligament) is dense fibrous tissue: dark on every
MR sequence, a little denser than muscle on CT (painted for the CT and MR only). The vein label
(the inferior vena cava and the common iliac veins) is blood in slow flow: on spin echo it is
not a flow void like the aorta but intermediate on T1 and bright on T2 / STIR (slow-flow
signal), the same density as the aorta's blood on unenhanced CT.
"""

from __future__ import annotations

import numpy as np

AIR = 0
SKIN = 1
FAT = 2
MUSCLE = 3
VISCERA = 4
CORTICAL = 5
ENDPLATE = 6
CANCELLOUS = 7
EDEMA = 8
SCLEROTIC = 9
GAP_FLUID = 10
GAP_FIBROUS = 11
ANNULUS = 12
NUCLEUS = 13
NUCLEUS_DEGENERATED = 14
CSF = 15
EPIDURAL_FAT = 16
NERVE = 17
VESSEL = 18
BOWEL_GAS = 19
BOWEL_FLUID = 20
FAECES = 21
FASCIA = 22
CHYME = 23
KIDNEY = 24
MUSCLE_FATTY = 25
LIGAMENT = 26
VEIN = 27

N_LABELS = 28

LABEL_NAMES = {
    AIR: "air", SKIN: "skin", FAT: "fat", MUSCLE: "muscle", VISCERA: "viscera",
    CORTICAL: "cortical bone", ENDPLATE: "endplate", CANCELLOUS: "cancellous bone",
    EDEMA: "edematous marrow", SCLEROTIC: "sclerotic bone", GAP_FLUID: "fracture gap (fluid)",
    GAP_FIBROUS: "fracture gap (fibrous)", ANNULUS: "disc annulus", NUCLEUS: "disc nucleus",
    NUCLEUS_DEGENERATED: "degenerated nucleus", CSF: "CSF", EPIDURAL_FAT: "epidural fat", NERVE: "nerve",
    VESSEL: "great vessel", BOWEL_GAS: "bowel gas", BOWEL_FLUID: "bowel fluid", FAECES: "faeces",
    FASCIA: "fascia", CHYME: "chyme", KIDNEY: "kidney", MUSCLE_FATTY: "fatty muscle",
    LIGAMENT: "ligament", VEIN: "vein",
}

BONE_LABELS = frozenset({CORTICAL, ENDPLATE, CANCELLOUS, EDEMA, SCLEROTIC})
SOFT_LABELS = frozenset({AIR, SKIN, FAT, MUSCLE, VISCERA})


def _table(values: dict[int, float]) -> np.ndarray:
    out = np.zeros(N_LABELS, dtype=np.float32)
    for k, v in values.items():
        out[k] = v
    return out


def ct_hu_table(adolescent: bool) -> np.ndarray:
    """CT number (HU) per label."""
    return _table({
        AIR: -1000, SKIN: 40, FAT: -100, MUSCLE: 50, VISCERA: 35, CORTICAL: 1500, ENDPLATE: 1100,
        CANCELLOUS: 320 if adolescent else 230, EDEMA: 340 if adolescent else 260, SCLEROTIC: 1150,
        GAP_FLUID: 30, GAP_FIBROUS: 60, ANNULUS: 95, NUCLEUS: 80, NUCLEUS_DEGENERATED: 100,
        CSF: 8, EPIDURAL_FAT: -100, NERVE: 35, VESSEL: 40, BOWEL_GAS: -1000, BOWEL_FLUID: 12, FAECES: 40,
        FASCIA: 50, CHYME: 25, KIDNEY: 32, MUSCLE_FATTY: 10, LIGAMENT: 65, VEIN: 38,
    })


MR_SEQUENCES = ("T1", "T2", "STIR")


def mr_signal_table(sequence: str, adolescent: bool) -> np.ndarray:
    """MR signal (arbitrary units, 0..~1000) per label for "T1", "T2" (FSE) or "STIR"."""
    col = MR_SEQUENCES.index(sequence)
    marrow = (500, 360, 170) if adolescent else (660, 430, 110)
    rows = {
        AIR: (0, 0, 0), SKIN: (420, 300, 260), FAT: (900, 640, 35), MUSCLE: (290, 210, 170),
        VISCERA: (310, 300, 150), CORTICAL: (25, 20, 20), ENDPLATE: (40, 35, 30),
        CANCELLOUS: marrow, EDEMA: (230, 700, 760), SCLEROTIC: (60, 45, 40),
        GAP_FLUID: (190, 820, 900), GAP_FIBROUS: (260, 260, 240), ANNULUS: (280, 230, 190),
        NUCLEUS: (330, 900, 780), NUCLEUS_DEGENERATED: (290, 190, 160), CSF: (100, 1000, 960),
        EPIDURAL_FAT: (880, 620, 35), NERVE: (360, 260, 230), VESSEL: (60, 40, 40),
        BOWEL_GAS: (0, 0, 0), BOWEL_FLUID: (110, 750, 600), FAECES: (400, 260, 190),
        FASCIA: (150, 110, 80), CHYME: (290, 420, 260), KIDNEY: (330, 480, 420), MUSCLE_FATTY: (450, 330, 120),
        LIGAMENT: (190, 150, 120), VEIN: (230, 330, 300),
    }
    return _table({k: v[col] for k, v in rows.items()})


def xray_mu_table(adolescent: bool) -> np.ndarray:
    """Linear attenuation (1/mm) per label for the radiographs, from the CT numbers with a
    bone boost for the lower effective energy of a radiograph (~40 keV vs ~70 keV)."""
    hu = ct_hu_table(adolescent).astype(np.float64)
    mu = 0.02 * (1.0 + hu / 1000.0)
    boost = 1.0 + 0.8 * np.clip((hu - 100.0) / 1400.0, 0.0, 1.0)
    return np.clip(mu * boost, 0.0, None).astype(np.float32)
