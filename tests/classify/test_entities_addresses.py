"""`pii.street_address`: hand-written addresses of several countries' formats, and the
street names, famous addresses and numbers next to street words that are no one's
address."""

from __future__ import annotations

import pytest

from sidecar.classify.entities.addresses import TAG, StreetAddressRecognizer
from sidecar.classify.entities.base import HIGH_FLOOR, MEDIUM_FLOOR

ADDRESSES = StreetAddressRecognizer()


def addresses(text: str) -> list[tuple[str, float]]:
    return [(text[h.start : h.end], h.confidence) for h in ADDRESSES.find(text)]


def counted(text: str) -> list[str]:
    return [value for value, confidence in addresses(text) if confidence >= MEDIUM_FLOOR]


HIGH = [
    ("Please ship to 42 Elm Road, Leeds LS6 2AB by Friday.", "42 Elm Road, Leeds LS6 2AB"),
    ("Neue Anschrift: Hauptstraße 12, 10115 Berlin.", "Hauptstraße 12, 10115 Berlin"),
    ("Livraison au 12 rue de la Paix, 75002 Paris, merci.", "12 rue de la Paix, 75002 Paris"),
    (
        "Mail it to 2130 Wisconsin Ave NW, Washington, DC 20007.",
        "2130 Wisconsin Ave NW, Washington, DC 20007",
    ),
    (
        "She lives at 17B Hawthorn Street, Sheffield S7 1AA with her aunt.",
        "17B Hawthorn Street, Sheffield S7 1AA",
    ),
    ("Send the forms to PO Box 4471, Boise, ID 83701.", "PO Box 4471, Boise, ID 83701"),
    (
        "Address: Flat 2, 19 Crossfield Road, Salford M5 4WT",
        "Flat 2, 19 Crossfield Road, Salford M5 4WT",
    ),
    ("Adres: ul. Kwiatowa 5/12, 00-950 Warszawa", "ul. Kwiatowa 5/12, 00-950 Warszawa"),
    ("Abito in Via Garibaldi 7, 20121 Milano da marzo.", "Via Garibaldi 7, 20121 Milano"),
    ("Nieuw adres: Keizersgracht 310, 1016 EZ Amsterdam", "Keizersgracht 310, 1016 EZ Amsterdam"),
    (
        "Deliver to 5521 Cedar Hollow Ln, Apt 4C, Omaha, NE 68104 after six.",
        "5521 Cedar Hollow Ln, Apt 4C, Omaha, NE 68104",
    ),
    (
        "The tenant at 88 Kingsway Road\nBrighton BN1 2RA moved out.",
        "88 Kingsway Road\nBrighton BN1 2RA",
    ),
]


@pytest.mark.parametrize(("text", "address"), HIGH)
def test_a_street_with_its_postcode_or_a_cue_is_high(text: str, address: str) -> None:
    found = addresses(text)
    assert [value for value, _ in found] == [address]
    assert found[0][1] >= HIGH_FLOOR


def test_a_street_with_a_city_is_medium() -> None:
    found = addresses("The clinic moved, it is now 310 Larkspur Avenue, Eugene.")
    assert found == [("310 Larkspur Avenue, Eugene", found[0][1])]
    assert MEDIUM_FLOOR <= found[0][1] < HIGH_FLOOR


def test_a_street_and_number_alone_is_medium() -> None:
    assert counted("The package is at 12 Wexford Street now.") == ["12 Wexford Street"]


HARD_NEGATIVES = [
    "Turn left on Main Street and continue to the station.",
    "Wall Street banks rallied after the announcement.",
    "Their Abbey Road album is a classic.",
    "Drive down Sunset Boulevard to the ocean.",
    "5 Easy Way to save on groceries",
    "Order 1142 shipped on Monday to the warehouse.",
    "In 2019 Abbey Road turned fifty.",
    "Room 12, Building 4 has the projector.",
    "The White House is at 1600 Pennsylvania Avenue.",
    "Sherlock Holmes lived at 221B Baker Street.",
    "Example: John Doe, 123 Main St.",
    "Release 2.4 Street Fighter patch notes",
    "Meet at Gate 12 at 7:30.",
    "version 3 String parser",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_stay_below_medium(text: str) -> None:
    assert counted(text) == []


def test_offsets_are_characters_in_non_ascii_text() -> None:
    text = "Zofia Kamińska — nowy adres: ul. Długa 17/4, 31-147 Kraków. Dziękuję!"
    hit = ADDRESSES.find(text)[0]
    assert hit.tag == TAG
    assert text[hit.start : hit.end] == "ul. Długa 17/4, 31-147 Kraków"


def test_two_addresses_in_one_text() -> None:
    text = "Old: 9 Birchwood Close, Norwich NR4 7QT. New: 61 Ferry Lane, Norwich NR1 1SG."
    assert counted(text) == ["9 Birchwood Close, Norwich NR4 7QT", "61 Ferry Lane, Norwich NR1 1SG"]


def test_a_text_without_a_trigger_costs_no_pattern() -> None:
    assert ADDRESSES.find("no digits and no street here, just words") == []
    assert ADDRESSES.find("") == []
