"""Health data: patient and provider identifiers, diagnosis codes, clinical vocabulary.

Clinical words alone are not PHI (a question about diabetes is public); they become
`phi.clinical` only in a request that also identifies a person.
"""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors import examples, icd10
from sidecar.classify.detectors.base import Detector

PERSONAL_IDENTIFIERS = ("pii.", "phi.mrn", "phi.mbi", "phi.npi")

MRN_WORDS = (
    "mrn", "mrn#", "medical record*", "med rec no", "record number", "record no",
    "patient id*", "patient-id", "patient number", "patient no", "patient #", "pt id",
    "pt. id", "pt #", "pt no", "chart number", "chart no", "chart #", "hospital number",
    "hospital no", "hosp no", "hosp. no", "hosp #", "unit number", "unit no", "health record*",
    "case record", "emr", "ehr", "pat.-nr", "pat.nr", "pat-nr", "pat. nr", "patientennummer",
    "patienten-nr", "patiëntnummer", "patientnummer", "patiëntnr", "numéro de dossier",
    "n° de dossier", "no de dossier", "dossier médical", "número de historia*",
    "historia clínica", "nhc", "cartella clinica", "numero di cartella", "numer pacjenta",
    "nr pacjenta", "numer historii", "hasta no", "hasta numarası", "protokol no",
    "journalnummer", "chi number", "chi no", "chi", "med rec", "med rec #", "med rec no",
    "record #", "ur no", "ur number", "u.r. no", "unit record*", "expediente",
    "numero nosologico", "número de expediente", "patient ref",
)  # fmt: skip
"""Labels of a hospital's own record number, in the languages its notes come in."""

MRN = Detector(
    "phi.mrn",
    (
        r"\b[A-Z]{0,3}-?[0-9]{6,10}\b",  # 00482913, A1029384, MR-3349021
        r"\b[A-Z]{0,3}[0-9]{2,5}[\- ][0-9]{3,7}\b",  # 0037-7712, RX 7730124
        r"\b[A-Z]{1,3}-[0-9]{5}\b",  # HH-30517
        # 1104-5580-2, 00-57-2204, 44019-2, 2024/018873
        r"\b[0-9]{2,5}[\-/][0-9]{1,7}([\-/][0-9]{1,7})?\b",
    ),
    validator=lambda s: 5 <= sum(c.isdigit() for c in s) <= 12 and not v.placeholder_digits(s),
    context=MRN_WORDS,
    confidence=0.85,
    context_window=40,
    veto=examples.SAMPLE_WORDS,  # "the HL7 example uses MRN 12345678 as a placeholder"
    veto_window=40,
    veto_after=40,
)

NHS_NUMBER = Detector(
    "phi.mrn",
    # England, Wales and the Isle of Man: ten digits, printed 3-3-4, with a mod-11 check.
    (r"\b[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4}\b",),
    validator=v.nhs_number,
    context=("nhs", "nhs number", "nhs no", "nhs #", "nhs-nr"),
    confidence=0.9,
    context_window=32,
)

NPI = Detector(
    "phi.npi",
    # Any ten digits; the validator wants a leading 1 or 2. Written as "[12][0-9]{9}" the
    # pattern cost the fast scan 7% more: Hyperscan cannot share an engine with the other
    # digit runs then.
    (r"\b[0-9]{10}\b",),
    validator=v.npi,
    context=("npi", "national provider", "provider*", "prescriber", "physician"),
    confidence=0.95,
    veto=examples.SAMPLE_WORDS,  # "NPI 1679576722 as its sample identifier"
    veto_window=40,
    veto_after=40,
)

DEA = Detector(
    "phi.dea",
    (r"\b[A-Z][A-Z9][0-9]{7}\b",),
    validator=v.dea,
    context=("dea", "prescriber", "registration", "controlled substance*"),
    confidence=0.95,
)

MBI = Detector(
    "phi.mbi",
    (
        r"\b[1-9][A-Z][A-Z0-9][0-9][A-Z][A-Z0-9][0-9][A-Z]{2}[0-9]{2}\b",
        r"\b[1-9][A-Z][A-Z0-9][0-9]-[A-Z][A-Z0-9][0-9]-[A-Z]{2}[0-9]{2}\b",
    ),
    validator=v.mbi,
    confidence=0.9,
)

CLINICAL_TERMS = (
    # diagnoses
    "diabetes",
    "type 2 diabetes",
    "type 1 diabetes",
    "hypertension",
    "asthma",
    "copd",
    "cancer",
    "carcinoma",
    "leukemia",
    "lymphoma",
    "melanoma",
    "tumor",
    "tumour",
    "hiv",
    "aids",
    "hepatitis",
    "tuberculosis",
    "pneumonia",
    "sepsis",
    "stroke",
    "myocardial infarction",
    "heart failure",
    "atrial fibrillation",
    "arrhythmia",
    "epilepsy",
    "seizure",
    "dementia",
    "alzheimer",
    "parkinson",
    "multiple sclerosis",
    "depression",
    "major depressive disorder",
    "anxiety disorder",
    "bipolar disorder",
    "bipolar i disorder",
    "bipolar ii disorder",
    "schizophrenia",
    "ptsd",
    "post-traumatic stress disorder",
    "posttraumatic stress disorder",
    "adhd",
    "autism",
    "anorexia",
    "bulimia",
    "substance use disorder",
    "alcohol use disorder",
    "opioid use disorder",
    "overdose",
    "suicidal",
    "self-harm",
    "pregnancy",
    "pregnant",
    "miscarriage",
    "infertility",
    "chlamydia",
    "gonorrhea",
    "syphilis",
    "herpes",
    "covid-19",
    "kidney disease",
    "renal failure",
    "cirrhosis",
    "obesity",
    "osteoporosis",
    "arthritis",
    "lupus",
    "crohn's disease",
    "ulcerative colitis",
    "celiac disease",
    "anemia",
    "hemophilia",
    "sickle cell",
    "cystic fibrosis",
    "glaucoma",
    "cataract",
    "migraine",
    "concussion",
    "fracture",
    # medications
    "metformin",
    "insulin",
    "lisinopril",
    "atorvastatin",
    "simvastatin",
    "amlodipine",
    "metoprolol",
    "losartan",
    "levothyroxine",
    "omeprazole",
    "albuterol",
    "prednisone",
    "gabapentin",
    "sertraline",
    "fluoxetine",
    "escitalopram",
    "bupropion",
    "trazodone",
    "alprazolam",
    "lorazepam",
    "clonazepam",
    "diazepam",
    "oxycodone",
    "hydrocodone",
    "morphine",
    "fentanyl",
    "buprenorphine",
    "methadone",
    "naloxone",
    "warfarin",
    "apixaban",
    "clopidogrel",
    "lithium",
    "quetiapine",
    "aripiprazole",
    "risperidone",
    "olanzapine",
    "adderall",
    "methylphenidate",
    "truvada",
    "pre-exposure prophylaxis",
    "antiretroviral",
    "chemotherapy drug",
    "semaglutide",
    "ozempic",
    "tamoxifen",
    # procedures and care
    "chemotherapy",
    "radiation therapy",
    "radiotherapy",
    "dialysis",
    "mastectomy",
    "hysterectomy",
    "appendectomy",
    "colonoscopy",
    "biopsy",
    "mri scan",
    "ct scan",
    "transplant",
    "bypass surgery",
    "angioplasty",
    "abortion",
    "ivf",
    "psychotherapy",
    "rehab",
    "detox",
    "inpatient",
    "discharge summary",
    "diagnosed with",
    "prescribed",
    "lab results",
    "blood test",
    "hba1c",
    "viral load",
    "cd4 count",
)

CLINICAL = Detector(
    "phi.clinical",
    tuple(r"\b" + term.replace(" ", r"\s+") + r"\b" for term in CLINICAL_TERMS),
    near=PERSONAL_IDENTIFIERS,
    near_window=None,
    confidence=0.7,
    caseless=True,
)

CLINICAL_CASED = Detector(
    "phi.clinical",
    # HIV pre-exposure prophylaxis. Only in this spelling: "prep" is also meal prep.
    (r"\bPrEP\b",),
    near=PERSONAL_IDENTIFIERS,
    near_window=None,
    confidence=0.7,
)

DETECTORS = (MRN, NHS_NUMBER, NPI, DEA, MBI, *icd10.DETECTORS, CLINICAL, CLINICAL_CASED)
