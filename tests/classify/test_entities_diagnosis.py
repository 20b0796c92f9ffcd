"""phi.diagnosis: diagnoses in words, read in context.

Every sentence here is written by hand for this test, none drawn from a generator or from
the lexicon's own files; the hard negatives are the look-alikes that a lexicon alone
would flag (economics, typography, SQL, product names, people's names).
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

from sidecar.classify.detectors.phi import PERSONAL_IDENTIFIERS
from sidecar.classify.entities import build_diagnoses
from sidecar.classify.entities.base import HIGH, LOW, MEDIUM, band
from sidecar.classify.entities.diagnosis import READ_LIMIT, DiagnosisRecognizer
from sidecar.classify.entities.diagnosis_lexicon import ICD_FILE, LAY_FILE, fold, load, variants
from sidecar.classify.entities.diagnosis_titles import cancer_forms, reduce_title


@pytest.fixture(scope="module")
def recognizer(tmp_path_factory: pytest.TempPathFactory) -> DiagnosisRecognizer:
    return DiagnosisRecognizer(compiled_cache=tmp_path_factory.mktemp("hs"))


def found(rec: DiagnosisRecognizer, text: str) -> dict[str, str]:
    """Each hit's text and confidence band."""
    return {text[h.start : h.end]: band(h.confidence) for h in rec.find(text)}


def test_interface(recognizer: DiagnosisRecognizer) -> None:
    assert recognizer.tags == ("phi.diagnosis",)
    assert recognizer.requires == PERSONAL_IDENTIFIERS
    hit = recognizer.find("Dx: asthma")[0]
    assert (hit.tag, hit.start, hit.end) == ("phi.diagnosis", 4, 10)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Mr. Haugland was diagnosed with atrial fibrillation in March.", "atrial fibrillation"),
        ("PMH: T2DM, HTN, CKD.", "T2DM"),
        ("PMH: T2DM, HTN, CKD.", "HTN"),
        ("Presents with community-acquired pneumonia.", "community-acquired pneumonia"),
        ("Known case of COPD on home oxygen.", "COPD"),
        ("History of MI in 2019, stented.", "MI"),
        ("She has a history of epilepsy since childhood.", "epilepsy"),
        ("HIV positive since 2011, on ART.", "HIV"),
        ("Tested positive for hepatitis C last year.", "hepatitis C"),
        ("Assessment:\n1. Heart failure with reduced EF\n2. Gout", "Heart failure"),
        ("Assessment:\n1. Heart failure with reduced EF\n2. Gout", "Gout"),
        (
            "Impression: major depressive disorder, recurrent, moderate.",
            "major depressive disorder",
        ),
    ],
)
def test_a_clinical_cue_makes_it_high(
    recognizer: DiagnosisRecognizer, text: str, term: str
) -> None:
    assert found(recognizer, text).get(term) == HIGH, found(recognizer, text)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        # lay names and abbreviations
        ("Tamsin, BMI 43, type 2 diabetes and high blood pressure.", "type 2 diabetes"),
        ("Tamsin, BMI 43, type 2 diabetes and high blood pressure.", "high blood pressure"),
        ("He had a heart attack two years ago.", "heart attack"),
        ("Ongoing depression, sleeping badly.", "depression"),
        ("Pre-auth for bipolar disorder medication review.", "bipolar disorder"),
        ("Claim relates to breast cancer surgery.", "breast cancer"),
        ("Flare of Crohn's disease last month.", "Crohn's disease"),
        ("Flare of Crohns disease last month.", "Crohns disease"),
        ("Flare of Crohn’s disease last month.", "Crohn’s disease"),
        ("Schizophrenia, stable on clozapine.", "Schizophrenia"),
        # ICD titles as a coder writes them
        ("Billing: Malignant neoplasm of breast.", "Malignant neoplasm of breast"),
        ("Essential hypertension, well controlled.", "Essential hypertension"),
        (
            "Chronic obstructive pulmonary disease, on tiotropium.",
            "Chronic obstructive pulmonary disease",
        ),
        # case, hyphen and spelling variants
        ("TYPE 2 DIABETES MELLITUS, insulin requiring.", "TYPE 2 DIABETES MELLITUS"),
        ("Known type-2 diabetes, poorly controlled.", "type-2 diabetes"),
        ("Known type II diabetes, poorly controlled.", "type II diabetes"),
        ("Long-standing iron deficiency anaemia.", "iron deficiency anaemia"),
        ("Recurrent kidney stones this year.", "kidney stones"),
        ("Referred: obstructive sleep apnoea, AHI 34.", "obstructive sleep apnoea"),
        # other languages
        ("Patientin mit Bluthochdruck und Vorhofflimmern.", "Bluthochdruck"),
        ("Antécédents: diabète de type 2.", "diabète de type 2"),
        ("Épilepsie depuis 2010.", "Épilepsie"),
        ("Paciente con cáncer de mama en 2019.", "cáncer de mama"),
    ],
)
def test_an_affirmed_diagnosis_is_at_least_medium(
    recognizer: DiagnosisRecognizer, text: str, term: str
) -> None:
    assert found(recognizer, text).get(term) in (MEDIUM, HIGH), found(recognizer, text)


def test_possessive_is_the_persons(recognizer: DiagnosisRecognizer) -> None:
    assert found(recognizer, "What should I eat for my type 2 diabetes?") == {
        "type 2 diabetes": MEDIUM
    }


@pytest.mark.parametrize(
    "text",
    [
        "No history of diabetes.",
        "Denies chest pain, shortness of breath or asthma.",
        "Negative for hepatitis C.",
        "Pneumonia was ruled out on imaging.",
        "Ruled out pulmonary embolism.",
        "Patient denies any prior history of stroke.",
        "HIV negative.",
        "No evidence of malignancy; no COPD.",
        "Problem list: Parkinson's disease? No.",
        "Pas d'antécédent d'AVC.",
        "Keine Epilepsie bekannt.",
    ],
)
def test_a_negated_diagnosis_is_no_hit(recognizer: DiagnosisRecognizer, text: str) -> None:
    assert recognizer.find(text) == []


def test_negation_scope_ends_at_the_clause(recognizer: DiagnosisRecognizer) -> None:
    text = "Denies chest pain but has asthma. No fever; diagnosed with pneumonia."
    assert found(recognizer, text) == {"asthma": MEDIUM, "pneumonia": HIGH}


def test_a_bare_negation_reaches_a_few_words(recognizer: DiagnosisRecognizer) -> None:
    text = "No changes were made to the dose while her diabetes stayed stable."
    assert "diabetes" in found(recognizer, text)
    near = "No suicidal ideation, no schizophrenia."
    assert found(recognizer, near) == {}


def test_a_cue_after_a_negation_affirms(recognizer: DiagnosisRecognizer) -> None:
    text = "Patient has no known drug allergies and was diagnosed with asthma."
    assert found(recognizer, text) == {"asthma": HIGH}


def test_an_answer_no_negates_only_the_question(recognizer: DiagnosisRecognizer) -> None:
    text = "Problem list: Parkinson's disease? No, essential tremor."
    assert found(recognizer, text) == {"essential tremor": HIGH}


def test_a_possessive_phrase_escapes_a_distant_negation(recognizer: DiagnosisRecognizer) -> None:
    text = "He was denied leave after disclosing his generalised anxiety disorder."
    assert found(recognizer, text) == {"generalised anxiety disorder": MEDIUM}


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("Rule out pneumonia.", "pneumonia"),
        ("R/O appendicitis, CT ordered.", "appendicitis"),
        ("Screening for colon cancer is due at 45.", "colon cancer"),
        ("Risk of stroke rises with atrial flutter untreated.", "stroke"),
        ("If you have asthma, keep your inhaler with you.", "asthma"),
        ("Diabetes awareness month starts in November.", "Diabetes"),
        ("People with epilepsy should not drive for six months after a seizure.", "epilepsy"),
        ("What are the symptoms of multiple sclerosis?", "multiple sclerosis"),
        ("She got her flu vaccine and a hepatitis B vaccine.", "hepatitis B"),
    ],
)
def test_hypothetical_and_generic_are_low(
    recognizer: DiagnosisRecognizer, text: str, term: str
) -> None:
    assert found(recognizer, text).get(term) == LOW, found(recognizer, text)


@pytest.mark.parametrize(
    "text",
    [
        "Family history of breast cancer in mother.",
        "Family history: mother diagnosed with breast cancer at 45.",
        "Breast cancer runs in the family.",
        "FHx: colon cancer (father).",
    ],
)
def test_family_history_is_low(recognizer: DiagnosisRecognizer, text: str) -> None:
    hits = found(recognizer, text)
    assert hits and set(hits.values()) == {LOW}, hits


def test_a_section_header_reads_the_lines_under_it(recognizer: DiagnosisRecognizer) -> None:
    text = (
        "Past medical history:\n- hypertension\n- asthma\n\n"
        "Family history:\n- diabetes (father)\n\nNotes: anemia follow-up"
    )
    assert found(recognizer, text) == {
        "hypertension": HIGH,
        "asthma": HIGH,
        "diabetes": LOW,
        "anemia": MEDIUM,
    }


def test_wrapped_lines_keep_their_clause(recognizer: DiagnosisRecognizer) -> None:
    assert found(recognizer, "Denies fever, cough or\nasthma.") == {}
    assert found(recognizer, "Denies fever.\nAsthma since 2009.") == {"Asthma": MEDIUM}


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Pre-op diagnosis: right carpal tunnel syndrome.", "right carpal tunnel syndrome"),
        ("MRI consistent with left-sided sciatica.", "left-sided sciatica"),
        (
            "Sustained a fracture of the left distal radius after a fall.",
            "fracture of the left distal radius",
        ),
        ("Admitted with cellulitis of the left lower leg.", "cellulitis of the left lower leg"),
        ("Declining dialysis for CKD stage 4.", "CKD stage 4"),
        ("Known chronic kidney disease, stage 3b.", "chronic kidney disease, stage 3b"),
    ],
)
def test_the_span_takes_side_site_and_stage(
    recognizer: DiagnosisRecognizer, text: str, span: str
) -> None:
    assert span in found(recognizer, text), found(recognizer, text)


@pytest.mark.parametrize(
    "text",
    [
        "The Great Depression changed banking regulation.",
        "A tropical depression formed over the Gulf.",
        "Set stroke-width: 2px and stroke: #333 on the path.",
        'ctx.stroke(); <path stroke="black" />',
        "Open the file in MS Office and export to PDF.",
        "SELECT id FROM a UNION ALL SELECT id FROM b;",
        "The PE ratio of the fund is 18; RA of the cohort was done; 2 TB of storage.",
        "ED note pending; ADD the column before the migration.",
        "Amelia Rossiter joined the design team.",
        "Hearing aids and visual aids for the classroom.",
        "The court ordered the seizure of assets.",
        "A bipolar transistor amplifies current.",
        "Keystrokes are logged by the extension.",
        "Cancer Research UK funds the trial network.",
    ],
)
def test_hard_negatives_make_no_medium_hit(recognizer: DiagnosisRecognizer, text: str) -> None:
    hits = found(recognizer, text)
    assert not [t for t, b in hits.items() if b != LOW], hits


def test_an_ambiguous_word_needs_a_person(recognizer: DiagnosisRecognizer) -> None:
    assert found(recognizer, "She had a seizure on Monday.") == {"seizure": MEDIUM}
    assert found(recognizer, "Diabetic recipes for the holidays.") == {"Diabetic": LOW}
    assert found(recognizer, "Her MS flared last week.") == {"MS": MEDIUM}


def test_offsets_are_characters_in_non_ascii_text(recognizer: DiagnosisRecognizer) -> None:
    text = "Zoë Müller – ☎ 030 1234 – diagnostiziert: Schlaganfall, außerdem Demenz."
    hits = recognizer.find(text)
    assert [text[h.start : h.end] for h in hits] == ["Schlaganfall", "Demenz"]


def test_words_inside_words_are_not_terms(recognizer: DiagnosisRecognizer) -> None:
    assert recognizer.find("influenza-like fluid; the goutte; prediabetesque; HIVE") == [
        h for h in recognizer.find("influenza-like fluid") if h.start == 0
    ]


def test_a_cached_database_gives_the_same_hits(tmp_path: Path) -> None:
    text = "Dx: T2DM with CKD stage 3. No history of stroke. Family history of asthma."
    first = DiagnosisRecognizer(compiled_cache=tmp_path).find(text)
    assert list(tmp_path.glob("hs-*.db"))
    assert DiagnosisRecognizer(compiled_cache=tmp_path).find(text) == first


def test_title_reduction() -> None:
    assert "type 2 diabetes mellitus" in reduce_title(
        "Type 2 diabetes mellitus without complications"
    )
    assert reduce_title("Unspecified fracture of right patella, initial encounter") == (
        "fracture of patella",
    )
    assert set(reduce_title("Leprosy [Hansen's disease]")) == {"leprosy", "hansen's disease"}
    assert "essential hypertension" in reduce_title("Essential (primary) hypertension")
    assert "epilepsy" in reduce_title("Epilepsy and recurrent seizures")
    assert "myocardial infarction" in reduce_title("Acute myocardial infarction")
    assert reduce_title("Unspecified asthma, uncomplicated", ("Asthma NOS",)) == ("asthma",)
    assert reduce_title("Other specified disorders of other sites") == ()
    assert reduce_title("Pain, unspecified") == ()  # a single word without a disease suffix
    assert "combined systolic" not in reduce_title(
        "Acute on chronic combined systolic and diastolic heart failure"
    )


def test_cancer_forms() -> None:
    forms = cancer_forms("malignant neoplasm of bronchus and lung")
    assert "lung cancer" in forms and "cancer of the lung" in forms
    assert cancer_forms("benign neoplasm of colon") == ()


def test_spelling_variants() -> None:
    assert {"crohns disease", "crohn disease", "crohn\u2019s disease"} <= set(
        variants("crohn's disease")
    )
    assert {"type ii diabetes", "type two diabetes", "type2 diabetes"} <= set(
        variants("type 2 diabetes")
    )
    assert "haemophilia" in variants("hemophilia")
    assert "generalised anxiety disorder" in variants("generalized anxiety disorder")
    assert "migraines" in variants("migraine")
    assert "diabete" in variants("diabète")
    assert {"sprained ankle", "sprained left ankle", "sprained right ankle"} <= set(
        variants("sprained {side}ankle")
    )
    assert fold("Type-2\tDiabetes") == b"type 2 diabetes"


def test_lexicon_is_compact_and_flagged() -> None:
    lex = load()
    assert 10_000 < len(lex) < 60_000
    assert ICD_FILE.stat().st_size < 200_000
    assert lex.folded[b"hypertension"] == 0
    assert lex.raw[b"MS"] & 1  # ambiguous
    assert lex.folded[b"great depression"] & 2  # excluded
    assert b"AIDS" in lex.raw and b"aids" not in lex.folded  # "aids" is a verb
    text = LAY_FILE.read_text(encoding="utf-8")
    assert text.count("\n") > 500


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the code set package
def test_the_generated_lexicon_is_up_to_date() -> None:
    if importlib.util.find_spec("simple_icd_10_cm") is None:
        pytest.skip("the code set package is needed to rebuild the lexicon")
    current = gzip.decompress(ICD_FILE.read_bytes())
    assert build_diagnoses.render(build_diagnoses.build()) == current


def test_odd_texts(recognizer: DiagnosisRecognizer) -> None:
    assert recognizer.find("") == []
    text = "\ud800 lone surrogate, then asthma"
    assert [text[h.start : h.end] for h in recognizer.find(text)] == ["asthma"]


def test_context_is_read_for_a_bounded_number_of_terms(recognizer: DiagnosisRecognizer) -> None:
    text = "No history of asthma. " * (READ_LIMIT + 20)
    hits = recognizer.find(text)
    assert len(hits) == 20  # past the limit, terms are reported unread: a clinical record
    assert hits[0].start == READ_LIMIT * len("No history of asthma. ") + len("No history of ")
