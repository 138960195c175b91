"""Teaching metadata for the six bundled sample cases (sample_dicom/caseNN_*): the history shown to
the trainee says what a referrer would say, never the answer; learning points are shown after."""

from __future__ import annotations

from app.teaching.case import CaseMetadata

_B = "bundled"

BUNDLED_METADATA: tuple[CaseMetadata, ...] = (
    CaseMetadata(
        "case01_normal_adolescent", "Adolescent footballer with back pain",
        "15-year-old footballer, six weeks of activity-related low back pain, no radiation, normal "
        "neurology. Radiographs and MRI including STIR.", "beginner", ("normal", "adolescent", "athlete"),
        ("A normal study is a diagnosis: both obliques show an intact 'Scotty dog' neck at every level.",
         "STIR without marrow oedema makes an active stress lesion unlikely.",
         "No CT without an indication: it adds radiation and does not change management here."), source=_B),
    CaseMetadata(
        "case02_l5_stress_reaction", "Adolescent gymnast with extension pain",
        "14-year-old gymnast, three weeks of extension-aggravated low back pain, positive one-legged "
        "hyperextension test, normal neurology.", "intermediate", ("L5", "bilateral", "stress reaction", "edema"),
        ("A stress reaction is marrow oedema with an intact cortex: STIR positive, CT without a fracture line "
         "(Hollenberg 1, CT pre-lysis).",
         "Normal radiographs do not exclude an early pars lesion; MRI with STIR finds it without radiation.",
         "This is the stage with the best chance of bony healing with rest."), source=_B),
    CaseMetadata(
        "case03_l5_active_fractures", "Fast bowler with three months of back pain",
        "16-year-old fast bowler, three months of low back pain, worse with bowling.", "intermediate",
        ("L5", "bilateral", "complete fracture", "edema"),
        ("A lucent line across the oblique's 'Scotty dog' neck is a pars defect; CT shows its extent.",
         "Oedema around a complete fracture means it is active (Hollenberg 3) and may still heal.",
         "Narrow margins without sclerosis distinguish an acute fracture from a chronic non-union."), source=_B),
    CaseMetadata(
        "case04_chronic_l5_grade1", "Office worker with years of back pain",
        "38-year-old office worker, years of intermittent mechanical low back pain, no leg symptoms.",
        "beginner", ("L5", "bilateral", "chronic", "slip", "grade I"),
        ("Wide gaps with sclerotic, corticated margins and no oedema: a chronic non-union (terminal).",
         "Measure the slip on the lateral view: the L5 postero-inferior corner against the S1 endplate "
         "(18 % = Meyerding I).",
         "The L5-S1 disc degenerates below an isthmic slip."), source=_B),
    CaseMetadata(
        "case05_l4_unilateral", "Tennis player with new one-sided pain",
        "17-year-old tennis player, new left-sided low back pain for six weeks.", "advanced",
        ("L4", "unilateral", "incomplete fracture", "chronic", "edema", "level counting"),
        ("The lesion is at L4, not L5: count from the sacrum on the lateral view before naming a level.",
         "An old defect on one side stresses the other pars: look for a new stress fracture opposite.",
         "Two sides can be at different stages; stage each side separately."), source=_B),
    CaseMetadata(
        "case06_chronic_l5_grade2", "Labourer with back and leg pain",
        "45-year-old labourer, chronic low back pain and intermittent right leg pain despite more than a "
        "year of conservative care.", "intermediate", ("L5", "bilateral", "chronic", "slip", "grade II"),
        ("A 35 % slip is Meyerding II; measure it, the grade follows from the percent.",
         "Radicular pain with an isthmic slip: the L5 root is compressed in the foramen by the pars "
         "fibrocartilage and the slip.",
         "Failed conservative care, disabling pain and radicular symptoms lead the pathway to surgical "
         "evaluation."), source=_B),
)
