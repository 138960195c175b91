"""The parameters of one synthetic case, and the six bundled sample cases.

A case says, per level and side, the pars state and marrow edema; the L5-on-S1 isthmic slip in
percent; L5-S1 disc degeneration; neural-arch hypoplasia; age and sex; which modalities to
render; and the clinical story and context that go into its README and reference read.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.findings.model import ClinicalContext, ImagingModality, ImagingPerformed, Level, ParsStatus, Side

# rendered modality -> the kind of imaging a reference-read pars entry was read on
_READ_ON = {"DX": ImagingModality.RADIOGRAPH, "CT": ImagingModality.CT, "MR": ImagingModality.MR}


@dataclass(frozen=True)
class ParsSpec:
    status: ParsStatus = ParsStatus.INTACT
    edema_pars: bool = False
    edema_pedicle: bool = False
    gap_mm: float | None = None  # None: a default width for the status

    @property
    def edema(self) -> bool:
        return self.edema_pars or self.edema_pedicle

    @property
    def gap_width_mm(self) -> float:
        if self.gap_mm is not None:
            return self.gap_mm
        return {
            ParsStatus.INTACT: 0.0, ParsStatus.STRESS_REACTION: 0.0,
            ParsStatus.INCOMPLETE_FRACTURE: 1.2, ParsStatus.COMPLETE_FRACTURE: 2.0,
            ParsStatus.CHRONIC_NONUNION: 3.2,
        }[self.status]


INTACT = ParsSpec()


@dataclass(frozen=True)
class CaseSpec:
    number: int
    slug: str  # folder name, e.g. "case01_normal_adolescent"
    title: str
    age_years: float
    sex: str  # "M" or "F"
    pars: tuple[tuple[Level, Side, ParsSpec], ...] = ()
    slip_pct: float = 0.0  # L5 on S1, isthmic (needs bilateral L5 defects)
    disc_degenerated_l5s1: bool = False
    pfirrmann_l5s1: int = 2
    hypoplastic_levels: tuple[Level, ...] = ()
    lordosis_scale: float = 1.0
    modalities: tuple[str, ...] = ("DX", "CT", "MR")
    seed: int = 0
    athlete: bool = False
    sport: str = ""
    story: str = ""
    impression: str = ""
    context: ClinicalContext = field(default_factory=ClinicalContext)
    study_date: str = "20240315"

    @property
    def adolescent(self) -> bool:
        return self.age_years < 18

    @property
    def read_on(self) -> frozenset[ImagingModality]:
        """What the reference read's pars entries were read on: every rendered modality (the
        radiographs always, with both obliques; CT and MR when the case has them)."""
        return frozenset({ImagingModality.RADIOGRAPH} | {_READ_ON[mod] for mod in self.modalities})

    @property
    def imaging_performed(self) -> ImagingPerformed:
        """The imaging of the case's story: radiographs always, CT / MRI as rendered; no
        flexion-extension views or SPECT are part of any story (not known, not "no")."""
        return ImagingPerformed(radiographs=True, ct="CT" in self.modalities, mri="MR" in self.modalities)

    @property
    def read_context(self) -> ClinicalContext:
        """The clinical context of the reference read: the story's context plus the patient's sex."""
        return replace(self.context, sex=self.sex)

    def pars_of(self, level: Level, side: Side) -> ParsSpec:
        for lv, sd, spec in self.pars:
            if lv is level and sd is side:
                return spec
        return INTACT

    @property
    def patient_name(self) -> str:
        return f"TRAINING^CASE{self.number:02d}"

    @property
    def patient_id(self) -> str:
        return f"ISTHMUS-SAMPLE-{self.number:02d}"

    def __post_init__(self) -> None:
        if self.slip_pct > 0:
            for side in Side:
                if not self.pars_of(Level.L5, side).status.fracture_extent == "complete":
                    raise ValueError(f"case {self.number}: an isthmic L5 slip needs complete L5 defects on both sides")


L4, L5 = Level.L4, Level.L5
LEFT, RIGHT = Side.LEFT, Side.RIGHT
S = ParsStatus


def _both(level: Level, spec: ParsSpec) -> tuple[tuple[Level, Side, ParsSpec], ...]:
    return ((level, LEFT, spec), (level, RIGHT, spec))


SAMPLE_CASES: tuple[CaseSpec, ...] = (
    CaseSpec(
        number=1, slug="case01_normal_adolescent", title="Normal adolescent athlete",
        age_years=15, sex="M", athlete=True, sport="football (soccer)", seed=101,
        modalities=("DX", "MR"),
        story=("15-year-old footballer with six weeks of activity-related low back pain, no "
               "radiation, normal neurology. Radiographs and MRI (including STIR) are normal: "
               "intact pars on both obliques, normal marrow signal, well-hydrated discs. No CT was "
               "done (no indication; radiation)."),
        impression="Normal lumbar spine. No pars defect, no marrow oedema, no listhesis.",
        context=ClinicalContext(age_years=15, skeletally_mature=False, athlete=True, sport="football (soccer)",
                                symptomatic=True, symptom_duration_months=1.5, conservative_care_months=0,
                                pain_vas=4, radicular_symptoms=False, neuro_deficit="none",
                                cauda_equina_symptoms=False),
    ),
    CaseSpec(
        number=2, slug="case02_l5_stress_reaction", title="Bilateral L5 stress reaction (pre-lysis)",
        age_years=14, sex="F", athlete=True, sport="gymnastics", seed=202,
        pars=_both(L5, ParsSpec(S.STRESS_REACTION, edema_pars=True, edema_pedicle=True)),
        story=("14-year-old gymnast, three weeks of extension-aggravated low back pain, positive "
               "one-legged hyperextension test, normal neurology. STIR shows marrow oedema in both "
               "L5 pars and pedicles; CT shows intact cortex with no fracture line on either side "
               "(Hollenberg grade 1, CT pre-lysis / very early). Radiographs are normal."),
        impression=("Bilateral L5 pars stress reaction (Hollenberg 1): STIR marrow oedema in both L5 "
                    "pars and pedicles, no fracture line on CT. No listhesis."),
        context=ClinicalContext(age_years=14, skeletally_mature=False, athlete=True, sport="gymnastics",
                                symptomatic=True, symptom_duration_months=0.75, conservative_care_months=0,
                                pain_vas=6, radicular_symptoms=False, neuro_deficit="none",
                                cauda_equina_symptoms=False),
    ),
    CaseSpec(
        number=3, slug="case03_l5_active_fractures", title="Bilateral L5 complete active pars fractures",
        age_years=16, sex="M", athlete=True, sport="cricket (fast bowling)", seed=303,
        pars=_both(L5, ParsSpec(S.COMPLETE_FRACTURE, edema_pars=True, edema_pedicle=True)),
        story=("16-year-old fast bowler, three months of low back pain, worse with bowling. "
               "Obliques show a lucent line across both L5 'Scotty dog' necks. CT shows complete "
               "narrow fracture lines through both L5 pars without sclerosis; STIR shows oedema "
               "around both fractures and in both pedicles (Hollenberg 3, active). No slip."),
        impression=("Bilateral L5 complete pars fractures with marrow oedema (Hollenberg 3, active; "
                    "CT progressive). No listhesis."),
        context=ClinicalContext(age_years=16, skeletally_mature=False, athlete=True, sport="cricket (fast bowling)",
                                symptomatic=True, symptom_duration_months=3, conservative_care_months=1,
                                pain_vas=6, radicular_symptoms=False, neuro_deficit="none",
                                cauda_equina_symptoms=False),
    ),
    CaseSpec(
        number=4, slug="case04_chronic_l5_grade1", title="Chronic bilateral L5 spondylolysis, grade I slip",
        age_years=38, sex="F", seed=404, slip_pct=18.0, disc_degenerated_l5s1=True, pfirrmann_l5s1=4,
        pars=_both(L5, ParsSpec(S.CHRONIC_NONUNION)),
        story=("38-year-old office worker with years of intermittent mechanical low back pain, no "
               "leg symptoms. Bilateral L5 pars defects with wide gaps and sclerotic, corticated "
               "margins (terminal stage), no marrow oedema on STIR (Hollenberg 4). Isthmic L5 on S1 "
               "anterolisthesis of about 18 % (Meyerding grade I); the L5-S1 disc is narrowed and dark "
               "on T2 (Pfirrmann IV)."),
        impression=("Chronic bilateral L5 spondylolysis (terminal, no oedema) with isthmic grade I "
                    "L5-S1 spondylolisthesis (~18 %) and L5-S1 disc degeneration."),
        context=ClinicalContext(age_years=38, skeletally_mature=True, athlete=False, symptomatic=True,
                                symptom_duration_months=36, conservative_care_months=12, pain_vas=5, odi=28,
                                radicular_symptoms=False, neuro_deficit="none", cauda_equina_symptoms=False,
                                slip_progression=False, smoking=False),
    ),
    CaseSpec(
        number=5, slug="case05_l4_unilateral", title="L4 left incomplete fracture, right chronic defect",
        age_years=17, sex="M", athlete=True, sport="tennis", seed=505,
        pars=((L4, LEFT, ParsSpec(S.INCOMPLETE_FRACTURE, edema_pars=True, edema_pedicle=True)),
              (L4, RIGHT, ParsSpec(S.CHRONIC_NONUNION))),
        story=("17-year-old tennis player with new left-sided low back pain for six weeks. CT shows "
               "an old right L4 pars defect with sclerotic margins (terminal) and a new incomplete "
               "fracture of the left L4 pars (inferior cortex) with marrow oedema in the left pars and "
               "pedicle on STIR (Hollenberg 2). The contralateral side is stressed by the old defect."),
        impression=("Right L4 chronic pars defect (terminal, no oedema); left L4 incomplete pars "
                    "fracture with marrow oedema (Hollenberg 2, CT early). No listhesis."),
        context=ClinicalContext(age_years=17, skeletally_mature=False, athlete=True, sport="tennis",
                                symptomatic=True, symptom_duration_months=1.5, conservative_care_months=0,
                                pain_vas=5, radicular_symptoms=False, neuro_deficit="none",
                                cauda_equina_symptoms=False),
    ),
    CaseSpec(
        number=6, slug="case06_chronic_l5_grade2", title="Chronic L5 spondylolysis, grade II slip",
        age_years=45, sex="M", seed=606, slip_pct=35.0, disc_degenerated_l5s1=True, pfirrmann_l5s1=5,
        pars=_both(L5, ParsSpec(S.CHRONIC_NONUNION, gap_mm=3.6)),
        story=("45-year-old labourer with chronic low back pain and intermittent right L5 radicular "
               "pain despite more than a year of conservative care. Bilateral chronic L5 pars defects "
               "(terminal, no oedema) with an isthmic L5 on S1 slip of about 35 % (Meyerding grade II) "
               "and a collapsed, dark L5-S1 disc (Pfirrmann V)."),
        impression=("Isthmic L5-S1 spondylolisthesis, Meyerding grade II (~35 %), bilateral chronic L5 "
                    "pars defects without oedema, advanced L5-S1 disc degeneration."),
        context=ClinicalContext(age_years=45, skeletally_mature=True, athlete=False, symptomatic=True,
                                symptom_duration_months=60, conservative_care_months=14, pain_vas=7, odi=46,
                                disabling_pain=True, radicular_symptoms=True, neuro_deficit="none",
                                cauda_equina_symptoms=False, slip_progression=False, smoking=False,
                                realistic_expectations=True),
    ),
)


def case_by_number(number: int) -> CaseSpec:
    for c in SAMPLE_CASES:
        if c.number == number:
            return c
    raise KeyError(f"no sample case {number} (there are {', '.join(str(c.number) for c in SAMPLE_CASES)})")
