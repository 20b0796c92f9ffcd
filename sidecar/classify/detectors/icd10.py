"""ICD-10 codes: the code's shape, its category in the ICD-10-CM code set, and a cue.

Letter, two digits, then up to four more characters with or without the dot (E11.9, E119,
J45.909, S72.001A). Most letter-and-digits tokens are something else (seat A12, vitamin
B12, flight E11, an A320), so a code counts when its category exists in ICD-10-CM and its
subdivision is no deeper than the category's codes go, and then only after a cue: a word
that labels a diagnosis or a code ("dx:", "ICD-10", "diagnosis", "history of"), or a
diagnosis word such as "disease" or "hypertension" shortly before it. A dotted code in
parentheses or closing a list, as in "plantar fasciitis (M72.2)", needs no cue: that is how
notes cite a code.

`CATEGORIES` is read off the ICD-10-CM code set (the CMS release as the `simple-icd-10-cm`
package ships it; a test rebuilds it from there when the package is installed): per letter
one character for each of 00-99, "." where no category exists, else how many characters
its longest code adds after the category (0: the category is a complete code, as I10 is).
"""

from __future__ import annotations

from sidecar.classify.detectors.base import Detector

CATEGORIES: dict[str, str] = {
    "A": "1221212120.....1.221111111121.112000221212211.0.22"
    "22212020022..100111201..21.20222112101100021011.10",
    "B": "22200221302....112120....122..1..21112212121211110"
    "11110112202...01121211021012100111.10220100.1222.1",
    "C": "101111201111011111100110111...11102..01121.3412212"
    "310110120.102211111211202121221223222.2.2222222...",
    "D": "22233212.22112212221123311111222110223122211202233"
    "1111.213121301200032113213102.13113.2..3..........",
    "E": "110112124444.4.02...3111112231121.302...0000100..."
    "1201011.0001.110310.33313331322..3221233..........",
    "F": ".3330022.03333333333200001..0022222....0311222..1."
    "322101...02..2120.200000....20220.1...0011.111..20",
    "G": "100121100002210.....22.1220...122..212..3..33113.."
    "1210102210122001....2421......1222.....23122023211",
    "H": "333.33....33...3333.330..3330.3303443...4.033.23.3"
    "323342.3.3333..33132323332....2313......332323....",
    "I": "011..111120112.11...221123231.12012111001010221222"
    "320.......2123.2231333122303113033.21311.....203.1",
    "J": "0212221..2222003101.110.......2111420121010123.1.."
    "..........00110011111.........012.311...0112132.20",
    "K": "1122233.31.2221.....2230.1111203...3001.2211111..."
    "333..33212322411102.22212220..2122.220..332.22....",
    "L": "023312..2.21210.....21022101121.........210110...1"
    "11010111111.0111211.1121312...0110010103111111.340",
    "M": "333.13333.333331222333333332..1222221...3323.22342"
    "33.32.....3333.333..331..332.341.143333332333234.2",
    "N": "212121210.01032101201100.2112021201320.31122213121"
    "3022......220221....21010121..32131201113111310113",
    "O": "31222..2233121221...1133323.133444344...443323321."
    "..........411141210422111201..0.0..02132233.0...33",
    "P": "212322.221112111...1..11211122.....12111.........."
    "112011212201........111.3.112.11.20.....0321102...",
    "Q": "11011112..111211111.121212121.1111111111111121...."
    "2333121...1221223111233113311211111213.21122.11113",
    "R": "11.12122.232021110121021.121.312010210.34301132212"
    "2102002101102202..2011.2202122103113131121333..2.0",
    "S": "444444444444444444.4444444444444444444444444444444"
    "44444444444444444444444444444444444444444444444444",
    "T": ".......4......444444444444444.12244.44444444444444"
    "4444444444444444444444.4444.44444444434...........",
    "U": ".......1.1........................................"
    "..................................................",
    "V": "4444444..44444444444444444444444444444444444444444"
    "44444444444444444444444444444444444444444444444444",
    "W": "44.44444444444444444444444444444444444444.4.444..4"
    "4444444444444.44.4.4...44..........44.444.444....4",
    "X": "4444444.4.4444444444..........444.444444.........."
    "4.4.....4............4444444444444........44444444",
    "Y": "44444..340...........4444444444444.4444..........."
    "............11120..0111111121111111.....1.32.0...1",
    "Z": "332322..00.2232333213030....3233212.22212111332232"
    ".232.122231.32110223123321231321232343133432233232",
}
ALPHA_CATEGORIES: dict[str, int] = {
    "C4A": 3, "C7A": 3, "C7B": 2, "D3A": 3, "I1A": 1, "I5A": 0, "J4A": 1, "M1A": 4, "O9A": 3,
    "Z3A": 2,
}  # fmt: skip
"""The categories whose third character is a letter."""


def category_depth(category: str) -> int | None:
    """How many characters codes of `category` (e.g. "E11") add at most; None if no such
    category."""
    if len(category) != 3:
        return None
    if category[1:].isdigit():
        row = CATEGORIES.get(category[0])
        depth = row[int(category[1:])] if row else "."
        return None if depth == "." else int(depth)
    return ALPHA_CATEGORIES.get(category)


def icd10_code(value: str) -> bool:
    """A code of an existing category, its subdivision no deeper than the category's."""
    head, dot, tail = value.partition(".")
    if not dot:
        head, tail = value[:3], value[3:]
    depth = category_depth(head)
    if depth is None or (dot and not tail):
        return False
    return len(tail) <= depth and (not tail or tail.isalnum())


def _code_in_citation(text: str) -> tuple[int, int]:
    """The code of "(E11.9)" or ", E11.9)": from its letter to before the closing mark."""
    start = 0
    while start < len(text) and not ("A" <= text[start] <= "Z"):
        start += 1
    return start, len(text) - 1


CODE_WORDS = (
    "icd*", "cie-10", "cie10", "cim-10", "cid-10", "diagn*", "dx", "ddx", "coded",
    "billing code*", "billed", "assessment", "impression", "problem list", "pmh", "hx",
    "history of", "treated for", "admitted for", "admission for", "condition*",
    "rozpoznanie", "tanı", "tanısı", "tanısıyla",
)  # fmt: skip
DIAGNOSIS_WORDS = (
    "disease", "disorder*", "syndrome", "infection", "failure", "fracture", "injury",
    "tear", "rupture", "deficiency", "cancer", "carcinoma", "tumor", "tumour", "neoplasm",
    "diabetes", "mellitus", "hypertension", "asthma", "copd", "pneumonia", "arthritis",
    "osteoarthritis", "depression", "depressive", "anxiety", "anemia", "anaemia", "obesity",
    "stroke", "sepsis", "dementia", "epilepsy", "migraine", "hypothyroidism",
    "hyperlipidemia", "dyslipidemia", "gout", "dvt", "hiv", "hepatitis", "cellulitis",
    "sciatica", "shingles", "osteoporosis", "gallstones", "stones", "apnea", "apnoea",
    "hypertensión", "hipertensión", "hipertensão", "diabète", "cukrzyca", "nadciśnienie",
    "bluthochdruck", "herzinsuffizienz", "vorhofflimmern",
)  # fmt: skip

_CODE = r"[A-Z][0-9][0-9AB]"

ICD10 = Detector(
    "phi.icd10",
    (r"\b" + _CODE + r"(\.?[0-9A-Z]{1,4})?\b",),
    validator=icd10_code,
    context=CODE_WORDS + DIAGNOSIS_WORDS,
    confidence=0.85,
    context_window=80,
)

ICD10_CITED = Detector(
    "phi.icd10",
    (r"[(,] ?" + _CODE + r"\.[0-9A-Z]{1,4}[),;]",),
    validator=lambda s: icd10_code(s[_code_in_citation(s)[0] : -1]),
    narrow=_code_in_citation,
    confidence=0.85,
)

DETECTORS = (ICD10, ICD10_CITED)
