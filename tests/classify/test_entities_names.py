"""`pii.person_name`: hand-written sentences (not from the evaluation corpus, its
generators or Faker). Positives must reach medium or high; hard negatives must stay below
medium, or not be found at all."""

from __future__ import annotations

import pytest

from sidecar.classify.entities.base import HIGH_FLOOR, MEDIUM_FLOOR
from sidecar.classify.entities.name_lexicon import NameLexicon, NoLexicon, fold, load
from sidecar.classify.entities.names import TAG, PersonNameRecognizer

NAMES = PersonNameRecognizer()


def names(text: str, recognizer: PersonNameRecognizer = NAMES) -> list[tuple[str, float]]:
    return [(text[h.start : h.end], h.confidence) for h in recognizer.find(text)]


def counted(text: str) -> list[str]:
    """The names that count for the policy: medium confidence or above."""
    return [value for value, confidence in names(text) if confidence >= MEDIUM_FLOOR]


HIGH = [
    ("Patient: Maria Okafor, admitted overnight.", "Maria Okafor"),
    ("Mr. Kowalski called about the invoice.", "Kowalski"),
    ("Dear Dr. Okonkwo, thank you for seeing her.", "Okonkwo"),
    ("Hello, my name is Jolanta Wierzbicka and I need a refund.", "Jolanta Wierzbicka"),
    ("Claimant Fenella Castellanos reports a sprained wrist.", "Fenella Castellanos"),
    ("Bartek Zawadzki, MRN 4410293, was seen in clinic.", "Bartek Zawadzki"),
    ("Cardholder: Ngaire Whitmore", "Ngaire Whitmore"),
    ("Meine Tochter Lena Hoffmann ist krank.", "Lena Hoffmann"),
    ("Refund to the account of Sra. Ximena Duarte please.", "Ximena Duarte"),
    ("From: Oisín Gallagher <oisin@example.org>", "Oisín Gallagher"),
    ("Account holder: P. van der Velde", "P. van der Velde"),
    ("Contact person: Aleksandra Nowak-Mazur (tel +48 600 100 200)", "Aleksandra Nowak-Mazur"),
]


@pytest.mark.parametrize(("text", "name"), HIGH)
def test_a_strong_cue_gives_high_confidence(text: str, name: str) -> None:
    found = names(text)
    assert (name, found[0][1]) in found
    assert found[0][1] >= HIGH_FLOOR


MEDIUM = [
    ("Hi Tomasz, thanks for the quick update.", "Tomasz"),
    ("Kind regards,\nPriya Raman", "Priya Raman"),
    ("Please call Henrik Solberg tomorrow about the lease.", "Henrik Solberg"),
    ("Tamsin Okoro called twice this morning.", "Tamsin Okoro"),
    ("I met Jennifer Walsh at the conference.", "Jennifer Walsh"),  # lexicon: both known
    ("The parcel was left outside. \u2014 Ruaridh MacAskill", "Ruaridh MacAskill"),
]


@pytest.mark.parametrize(("text", "name"), MEDIUM)
def test_a_weak_cue_or_a_known_name_gives_medium(text: str, name: str) -> None:
    assert name in counted(text)


HARD_NEGATIVES = [
    "Abraham Lincoln's speech at Gettysburg was short.",
    "Can you explain Albert Einstein's theory of relativity?",
    "Write a poem in the style of Emily Dickinson.",
    "President Lincoln signed the proclamation.",
    "Dear Team, the release is out.",
    "Thanks, Support",
    "Dear Valued Customer, your order has shipped.",
    "We moved the standup to Microsoft Teams.",
    "Turn left on Main Street and continue to the station.",
    "Open PowerPoint and GitHub Desktop, then share the screen.",
    "The New York Times reported the merger on Monday.",
    "Export the Quarterly Revenue Report by Friday.",
    "Hello World in Rust, please.",
    "Goldman Sachs and Morgan Stanley both raised their forecasts.",
    "Who painted the Mona Lisa?",
    "Sample form: Name: John Doe, Date: 01/01/2000.",
    "import pandas as pd\nfrom Django import Settings",
    "The user_id is JaneSmith42 and the path is /home/MariaOkafor/notes.",
    "Sehr geehrte Damen und Herren, anbei die Rechnung.",
    "Berlin",
    "Sanjay",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_stay_below_medium(text: str) -> None:
    assert counted(text) == []


def test_a_bare_capitalised_pair_is_low_not_nothing() -> None:
    found = names("Zbyszko Przybylak left the building.")
    assert found and found[0][0] == "Zbyszko Przybylak"
    assert found[0][1] < MEDIUM_FLOOR


def test_the_lexicon_is_what_lifts_an_uncued_pair() -> None:
    text = "I met Jennifer Walsh at the conference."
    with_lexicon = names(text)[0][1]
    without = names(text, PersonNameRecognizer(NoLexicon()))[0][1]
    assert with_lexicon >= MEDIUM_FLOOR > without


def test_offsets_point_at_the_name_and_the_tag_is_right() -> None:
    text = "Nursing handover: Mrs. Dolina Achterberg, bed 4."
    hit = NAMES.find(text)[0]
    assert hit.tag == TAG
    assert text[hit.start : hit.end] == "Dolina Achterberg"


def test_a_prepositional_von_before_a_whole_name_is_cut_off() -> None:
    assert "Franziska Obermeier" in counted("Bitte das Gehalt von Franziska Obermeier zahlen.")
    assert "Cornelius van Rijnsburger" in counted("Patient Cornelius van Rijnsburger, 88.")


def test_several_names_in_one_text() -> None:
    text = "Customer Ada Brennan asked for her son, Milo Brennan, to be added."
    assert counted(text) == ["Ada Brennan", "Milo Brennan"]


def test_lexicon_folds_accents_and_case() -> None:
    lexicon = NameLexicon(["JOSE", "MARIA"], ["GARCIA"])
    assert lexicon.first("José") and lexicon.first("maria")
    assert lexicon.last("García") and not lexicon.last("Okafor")
    assert fold("Straße") == "strasse"


def test_the_shipped_lexicon_loads() -> None:
    lexicon = load()
    assert len(lexicon) > 30000
    assert lexicon.first("Jennifer") and lexicon.last("Walsh")
    assert not lexicon.first("Team") and not lexicon.first("Monday")
