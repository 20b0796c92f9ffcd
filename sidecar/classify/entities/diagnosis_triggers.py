"""The trigger phrases of the diagnosis context rules (see `diagnosis_context`), by what
they do to a diagnosis in their scope. Lower case, single spaces, hyphens as spaces: the
clause they are matched in is normalised the same way. Written as text, a "|" between
phrases, because a list this long is read and amended by people, not by code."""

from __future__ import annotations

from enum import Enum


class Reading(Enum):
    """How a diagnosis reads in its context: what the triggers in its scope make of it."""

    NEGATED = "negated"
    HYPOTHETICAL = "hypothetical"
    FAMILY = "family"
    GENERIC = "generic"
    UNCERTAIN = "uncertain"
    AFFIRMED = "affirmed"
    PERSONAL = "personal"
    """Affirmed and tied to a person by a possessive ("her asthma")."""
    CUED = "cued"
    """Affirmed with a clinical cue ("diagnosed with", "PMH:", "HIV positive")."""


def _phrases(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.replace("\n", "|").split("|") if p.strip())


NEGATED = _phrases("""
    denies | deny | denies any | denies any history of | denies history of
    denies a history of | negative for | tested negative for | free of | absence of
    no evidence of | without evidence of | no signs of | no sign of | no symptoms of
    no history of | no hx of | no h/o | no known | no known history of | no prior
    no prior history of | no previous | no past history of | no personal history of
    no past medical history of | no significant history of | no family history of
    no personal or family history of | no suspicion of | no indication of | never had
    has never had | never been diagnosed with | never diagnosed with | not diagnosed with
    was not diagnosed with | does not have | doesn't have | did not have | didn't have
    do not have | don't have | has no | had no | ruled out | ruled out for
    not consistent with | inconsistent with | fails to reveal | negative history of
    unremarkable for
""")

NEGATED += _phrases("""
    pas de | pas d' | pas d'antécédent | pas d'antécédents | pas d'antécédent de
    aucun antécédent de | sans antécédent de | absence de | nie | niega | sin antecedentes de
    kein hinweis auf | keine hinweise auf | verneint | nega | nessuna storia di
    nega história de | sem história de | ontkent | geen aanwijzingen voor | brak objawów
""")
"""German, French, Spanish, Italian, Portuguese, Dutch and Polish negations, as few as the
lexicon's terms in those languages need."""

BARE_NEGATIONS = _phrases("""
    no | not | without | w/o | denied | kein | keine | keinen | ohne | sans | sin | senza
    não | sem | geen | zonder | bez | brak
""")
"""Negations that reach a few words only (NegEx's window), not the whole clause; "denied"
among them, since a claim is denied more often than a patient denies a symptom."""

HYPOTHETICAL = _phrases("""
    rule out | to rule out | r/o | rule out for | evaluate for | evaluation for
    evaluated for | assess for | work up for | workup for | test for | tested for
    testing for | screen for | screening for | screened for | risk of | risk for | at risk
    at risk of | at risk for | risk factor for | risk factors for | chance of | prevent
    prevention of | preventing | prophylaxis against | vaccine against | vaccinated against
    vaccination against | in case of | in the event of | could develop | might develop
    may develop | likely to develop | ddx | differential diagnosis | differential diagnoses
    if | should he develop | should she develop | should they develop
""")

COMMA_BOUND = _phrases("if | in case of | in the event of")
"""Hypotheticals whose scope a comma ends: "If it rains, her asthma flares"."""

FAMILY = _phrases("""
    family history of | family history | family history significant for
    family history positive for | family hx of | family hx | family h/o | fhx | fh of | fh:
    family member with | family members with | relatives with
    antécédents familiaux de | antecedentes familiares de | familienanamnese
    familiäre vorbelastung | familiegeschiedenis van | storia familiare di | familiarità per
    história familiar de | histórico familiar de | wywiad rodzinny
""")

GENERIC = _phrases("""
    if you have | if you | if your | people with | people who have | people living with
    patients with | those with | anyone with | someone with | children with | adults with
    individuals with | persons with | what is | what are | what causes | how is | how do
    how does | how to | how can | symptoms of | signs of | signs and symptoms of | causes of
    types of | stages of | complications of | treatment of | treatments for
    treatment options for | management of | pathophysiology of | epidemiology of
    overview of | guide to | guidelines for | article about | article on | blog post about
    essay on | information about | information on | facts about | learn about | research on
    research into | studies on | prevalence of | incidence of | diet for | awareness of
    explain | poem about | story about | essay about | write about | song about | quiz on
""")

UNCERTAIN = _phrases("""
    possible | possibly | probable | probably | suspected | suspect | suspicion of | likely
    concern for | concerning for | consistent with | suggestive of | suggests | questionable
    presumed | cannot rule out | can't rule out | not ruled out
""")
"""Uncertain but the patient's ("suspected pneumonia"): for routing still health data."""

CUED = _phrases("""
    diagnosed with | diagnosed as | was diagnosed with | newly diagnosed | dx with | dx of
    dx: | dx | diagnosis of | diagnosis: | diagnoses: | diagnosis | presents with
    presented with | presenting with | admitted with | admitted for | treated for
    being treated for | under treatment for | on treatment for | receiving treatment for
    suffers from | suffering from | suffered from | found to have | known case of | k/c/o
    history of | hx of | h/o | hx: | pmh: | pmh | pmhx | past medical history of
    past medical history: | significant for | positive for | tested positive for
    assessment: | impression: | a/p: | problem list: | complicated by | living with
    seen for | follow up for | followed for | referred for | referred with | attending for
    admitted to hospital with | hospitalized for | hospitalised for | on medication for
    medication for | indications: | indication: | reason for visit: | reason: | injury:
    off work with | sick leave for | due to | conditions: | condition: | problems:
    comorbidities: | comorbidities | co morbidities | medical history: | past history:
""")

PSEUDO = _phrases("""
    no change | no changes | no increase | no decrease | not only | not necessarily
    no doubt | no longer | not certain | not sure | no further | gram negative | not cause
    no more | not just | whether or not | if not | no matter | if needed | if necessary
""")
"""Phrases that hold a trigger word but trigger nothing: they reset the reading."""

POST_NEGATED = _phrases("""
    ruled out | was ruled out | has been ruled out | is ruled out | was excluded
    has been excluded | is unlikely | was unlikely | unlikely | not found | not detected
    not seen | not present | is absent | was negative | is negative | came back negative
    test was negative | not diagnosed | not yet diagnosed | not confirmed
""")
POST_CUED = _phrases("came back positive | was confirmed | confirmed | test was positive")
POST_FAMILY = _phrases("""
    in her mother | in his mother | in her father | in his father | in mother | in father
    in the family | runs in the family | runs in her family | runs in his family
    in her family | in his family | in siblings | in a sibling | in maternal | in paternal
""")
POST_UNCERTAIN = _phrases(
    "cannot be ruled out | can not be ruled out | can't be ruled out | not excluded"
)

RIGHT_AFTER_GENERIC = _phrases("""
    awareness | month | week | day | research | researchers | foundation | association
    society | institute | charity | fundraiser | fundraising | walk | campaign | education
    educator | statistics | prevalence | epidemic | pandemic | guidelines | guideline | trial
    trials | study | studies | patients | sufferers | cases | rates | drugs | app | program
    programme | restrictions | era
""")
"""Words right after a term that make it a topic, not a person's: "diabetes awareness"."""
RIGHT_AFTER_NEGATED = _phrases("negative | neg")
RIGHT_AFTER_CUED = _phrases("positive | pos | +")
"""Right after the term, as in "HIV negative", "HIV test positive", "HIV+"; further on,
"negative" is as often "a negative impact"."""
RIGHT_AFTER_HYPOTHETICAL = _phrases(
    "risk | screening | test | testing | tests | vaccine | vaccines | prevention"
)

CONJUNCTIONS = _phrases(
    "but | however | although | though | except | apart from | aside from | nevertheless | whereas"
)
"""Words that end a clause: "no fever but diabetes"."""

SECTION_HEADERS = {
    "family history": "family",
    "family hx": "family",
    "fhx": "family",
    "fh": "family",
    "pmh": "cued",
    "pmhx": "cued",
    "past medical history": "cued",
    "medical history": "cued",
    "past history": "cued",
    "problem list": "cued",
    "problems": "cued",
    "active problems": "cued",
    "diagnosis": "cued",
    "diagnoses": "cued",
    "dx": "cued",
    "discharge diagnosis": "cued",
    "discharge diagnoses": "cued",
    "admitting diagnosis": "cued",
    "admission diagnosis": "cued",
    "assessment": "cued",
    "impression": "cued",
    "assessment and plan": "cued",
    "a/p": "cued",
    "hpi": "cued",
    "history of present illness": "cued",
    "chief complaint": "cued",
    "cc": "cued",
    "conditions": "cued",
    "medical conditions": "cued",
    "differential": "hypothetical",
    "differential diagnosis": "hypothetical",
    "ddx": "hypothetical",
    "plan": "none",
    "social history": "none",
    "medications": "none",
    "allergies": "none",
    "ros": "none",
    "review of systems": "none",
}
"""A header and how it reads the lines under it; "none" ends the header above it."""
