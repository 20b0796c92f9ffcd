"""The words around a capitalised run that tell a person's name from a product, a team, a
heading or a public figure. Hand-written; matched case-insensitively, as whole words.

* `HONORIFICS` and `LABELS` (a role noun or a form label right before the run: "Patient:",
  "claimant", "my name is", "Cardholder:") are strong cues: high confidence.
* `GREETINGS` ("Dear", "Hi") and `SIGN_OFFS` ("Regards,", "Thanks,") are weak: the word after
  them is often a team or a role ("Dear Team", "Thanks, Support"), so they give medium only
  to a run that is no common word (`NOT_NAMES`).
* `PUBLIC` cues before a run ("President", "King", "a book by") and `WORKS` after a
  possessive ("Lincoln's speech") mark a public figure: low, whatever else is there.
"""

from __future__ import annotations

HONORIFICS = (
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "herr", "herrn",
    "frau", "dhr", "mevr", "mevrouw", "meneer", "monsieur", "madame", "mademoiselle", "mme",
    "mlle", "sr", "sra", "srta", "señor", "señora", "sig", "sig.ra", "signor", "signora",
    "dott", "dott.ssa", "dottor", "dottore", "dottoressa", "doctora", "doktor", "pan", "pani",
    "pana", "panem", "panią", "sayın", "bay", "bayan", "shri", "smt", "senhor", "senhora",
)  # fmt: skip
"""Titles right before a name; with a dot or without."""

LABELS = (
    # form labels and role nouns (English)
    "name", "full name", "patient", "patient name", "pt", "insured", "claimant", "member",
    "cardholder", "card holder", "account holder", "holder", "beneficiary", "applicant",
    "employee", "tenant", "guest", "homeowner", "policyholder", "policy holder", "borrower",
    "guarantor", "caller", "customer", "client", "contact", "next of kin", "driver",
    "passenger", "witness", "approver", "signed", "signed by", "signature", "attending",
    "surgeon", "physician", "provider", "prescriber", "referred by", "seen by", "spoke with",
    "spoke to", "called", "visitor", "resident", "student", "candidate", "new hire",
    "new starter", "payee", "recipient", "addressee", "deceased", "decedent",
    "subscriber", "dependent", "parent", "guardian", "from", "attn", "c/o", "re",
    "name on card", "name on the card", "name on account", "name on the account",
    "cardholder name", "account name", "name on file", "identified as", "dossier",
    "medisch dossier",
    # self-introductions
    "my name is", "name is", "i am", "i'm", "this is", "it's", "call me", "named",
    # relatives
    "my wife", "my husband", "my son", "my daughter", "my mother", "my father", "my mom",
    "my mum", "my dad", "my brother", "my sister", "my partner", "my papa", "my mama",
    "her son", "her daughter", "his son", "his daughter", "her husband", "his wife",
    "her mother", "his mother", "her father", "his father", "son", "daughter", "wife",
    "husband", "mother", "father", "brother", "sister", "widow", "widower", "papa", "mama",
    "mummy", "mom", "mum", "dad", "sohn", "tochter", "fils", "fille", "hijo", "hija",
    "figlio", "figlia", "filho", "filha", "zoon", "dochter", "syn", "córka", "mari", "marido",
    "esposa", "moglie", "marito", "mann", "ehefrau", "ehemann", "vater", "mutter", "mère",
    "père", "madre", "padre",
    # other languages: patient, name, self-introduction
    "paciente", "patientin", "pacjent", "pacjentka", "paziente", "la paziente", "il paziente",
    "patiënt", "patiente", "hasta", "nome", "nombre", "nom", "naam", "nazwisko", "imię",
    "mijn naam is", "ich heiße", "ich heisse", "ich bin", "je m'appelle", "je suis", "me llamo",
    "soy", "sono", "mi chiamo", "meu nome é", "sou", "aqui é", "aqui é a", "aqui é o",
    "nazywam się", "jestem", "jag heter", "jeg heter", "jeg hedder", "mera naam", "mera naam hai",
    "benim adım", "adım", "familie", "famille", "familia", "votre fille",
    "votre fils",
    "mi hijo", "mi hija", "mijn zoon", "mijn dochter", "meine tochter", "mein sohn",
)  # fmt: skip
"""Right before a name, a colon allowed after: strong evidence of a person."""

GREETINGS = (
    "dear", "hi", "hello", "hey", "good morning", "good afternoon", "thank you", "thanks",
    "cher", "chère", "bonjour", "hola", "estimado", "estimada", "querido", "querida", "olá",
    "oi", "caro", "cara", "gentile", "buongiorno", "ciao", "liebe", "lieber", "hallo",
    "sehr geehrte", "sehr geehrter", "beste", "geachte", "hej", "kära", "szanowna",
    "szanowny", "drogi", "droga", "merhaba", "namaste", "welcome", "welcome aboard",
    "welcome back", "congratulations", "congrats",
)  # fmt: skip
"""Right before a name; weak alone (see module docstring)."""

SIGN_OFFS = (
    "regards", "kind regards", "best regards", "warm regards", "best", "thanks", "thank you",
    "many thanks", "cheers", "sincerely", "yours sincerely", "yours faithfully", "yours",
    "yours truly", "cordially", "respectfully", "love", "best wishes", "cordiali saluti",
    "saluti", "mit freundlichen grüßen", "viele grüße", "grüße", "met vriendelijke groet",
    "groet", "cordialement", "bien à vous", "saludos", "atentamente", "atenciosamente",
    "pozdrawiam", "z poważaniem", "med vänlig hälsning", "hälsningar", "saygılarımla",
)  # fmt: skip
"""At the end of a message, before a signature."""

PUBLIC = (
    "president", "vice president", "prime minister", "chancellor", "king", "queen", "prince",
    "princess", "emperor", "empress", "pope", "saint", "st", "lord", "lady", "general", "sir",
    "dame",
    "senator", "governor", "mayor", "minister", "chairman", "ceo", "founder", "author",
    "novelist", "poet", "painter", "composer", "singer", "actor", "actress", "director",
    "philosopher", "scientist", "physicist", "inventor", "explorer", "quote", "quoting",
    "according to", "style of", "biography of", "history of",
    "works of", "poem by", "book by", "novel by", "song by", "film by", "written by",
    "painted by", "composed by", "directed by", "starring", "famous", "late", "legendary",
    "historian", "economist", "mathematician", "artist", "band", "rapper", "player",
)  # fmt: skip
"""Right before a run: the text is about someone public, not about a data subject."""

WORKS = (
    "speech", "speeches", "address", "theory", "theorem", "law", "laws", "equation",
    "paradox", "principle", "novel", "novels", "book", "books", "poem", "poems", "play",
    "plays", "song", "songs", "album", "albums", "painting", "paintings", "symphony",
    "film", "films", "movie", "movies", "quote", "quotes", "biography", "legacy", "presidency",
    "administration", "reign", "era", "works", "philosophy", "proclamation", "doctrine",
    "algorithm", "method", "effect", "model", "disease", "syndrome", "rule", "razor", "paper",
    "papers", "essay", "essays", "lecture", "lectures", "style", "birthday", "statue",
    "portrait", "tweets", "tweet", "company", "foundation", "campaign", "dream", "diary",
)  # fmt: skip
"""After "X's": a public figure's work ("Lincoln's Gettysburg address" is history)."""

VENUES = (
    "Restaurant", "Bakery", "Diner", "Cafe", "Café", "Bistro", "Grill", "Kitchen", "Tavern",
    "Pizzeria", "Deli", "Noodle House", "Steakhouse", "Brasserie", "Trattoria", "Pub",
)  # fmt: skip
"""Capitalised, after a possessive: a business ("Mama Chen's Noodle House", "Joe's Diner");
"Maria's kitchen" in lower case is still someone's."""

GOODS = (
    "boots", "shoes", "sneakers", "sandals", "jeans", "jacket", "jackets", "perfume",
    "fragrance", "cologne", "sunglasses", "watch", "watches", "handbag", "handbags",
    "cookies", "biscuits", "pizza", "sauce", "rice", "cereal", "chocolate", "chocolates",
    "coffee", "tea", "beer", "whisky", "whiskey", "wine", "gin", "vodka", "soda", "cola",
    "chips", "crisps", "sausage", "sausages", "ketchup", "mustard", "noodles", "soup",
    "cleaner", "cleaners", "detergent", "soap", "shampoo", "toothpaste", "spray", "wipes",
    "eraser", "toys", "toy", "doll", "dolls", "figurine", "game", "games", "console",
    "column", "columns", "cartoon", "cartoons", "franchise", "merchandise", "merch",
    "collection", "range", "brand", "brands", "products", "store", "stores", "outlet",
    "restaurant", "restaurants", "franchisee", "recipe", "recipes", "flavour", "flavor",
    "guitar", "guitars", "speaker", "speakers", "headphones", "tumbler", "bottle",
)  # fmt: skip
"""Right after a name, a kind of goods makes it a brand ("Dr. Martens boots", "Mrs. Fields
cookies", "Mr. Clean Magic Eraser" reads as "Mr. Clean" + the product): people are not
followed by a plural noun of merchandise."""

NOT_NAMES = frozenset(
    """
    the a an and or but if when then than this that these those there here it its we our
    you your they their them he she his her him i my me mine us who what which where why how
    please thanks thank hi hello hey dear yes no ok okay so also just can could would will
    should shall must might is are was were be been being do does did done have has had not
    all any some each every both either neither none many much more most other another such
    new old first last next previous final good great best kind warm regards sincerely
    cheers today tomorrow yesterday tonight morning afternoon evening night day week month
    year monday tuesday wednesday thursday friday saturday sunday january february march
    april june july august september october november december sir madam madame everyone
    everybody anyone someone team teams folks guys friends colleagues all staff customer
    customers client clients user users admin admins doctor nurse patient patients member
    members manager support service services sales billing finance payroll accounts legal
    security marketing engineering hr it ops devops research operations management board
    committee department dept office desk help helpdesk group inc llc ltd gmbh ag sa bv nv
    plc corp corporation company co bank hospital clinic centre center medical health
    healthcare pharmacy insurance university college school institute foundation ministry
    council agency association society club airlines airways systems solutions technologies
    technology software labs lab studio studios partners holdings industries logistics
    freight marine motors cloud web platform api app apps store shop pay street road avenue
    drive boulevard square station airport city county state river lake mount circle plaza
    beach bay hotel restaurant cafe church court house building tower bridge north south
    east west central national international global united american british european
    english french german spanish italian dutch polish turkish chinese japanese indian
    subject summary report notes note plan assessment diagnosis address phone email mail
    name date birth policy claim account order invoice ticket status number card amount
    reason merchant injury witness employer relationship procedure medication problem list
    referral letter update request response error warning info debug test example sample
    demo default true false null none project release version feature issue bug fix change
    meeting agenda minutes review draft document page section chapter table figure appendix
    question answer total price cost fee tax vat refund payment transfer balance contract
    agreement terms conditions privacy data file folder system server client network
    product products item items welcome dashboard settings profile login logout password
    ladies gentlemen diary mum mom dad grandma grandpa auntie uncle santa world universe
    devs developers engineers crew squad peeps gang fam y'all yall coordinator director
    officer lead head specialist assistant associate representative administrator analyst
    reliability site volunteer volunteers aboard grüße grusse gruesse beste liebe
    home about contact contacts careers news blog press faq emergency urgent important
    confidential internal public private personal general annual quarterly weekly daily
    monthly microsoft google apple amazon meta facebook twitter linkedin slack zoom teams
    github gitlab jira confluence salesforce oracle ibm intel nvidia openai anthropic
    windows linux android ios excel word powerpoint outlook chrome safari firefox visual
    studio code python java javascript typescript rust docker kubernetes aws azure gcp
    alexa siri cortana gemini claude chatgpt copilot
    in on at for from to with by of as after before during since until about per via into
    over under near between without within across against
    damen herren messieurs mesdames señores signori heren valued hiring success
    flat unit apt suite room floor block level
    jag ich je ik ja io yo eu
    greek roman egyptian persian russian chinese african asian latin arabic
    callback call hotline key value type field column row world universe
    """.split()
)
"""Capitalised words that are not the name in a run: function words at a sentence's start,
days and months, roles, organisation words, headings, products. A run holding one is cut
there ("Thanks Maria" -> "Maria"); a run with an organisation word is no name at all."""

ORGANISATION = frozenset(
    """
    team teams support service services desk helpdesk group inc llc ltd gmbh ag sa bv nv
    plc corp corporation company co bank hospital clinic centre center medical health
    healthcare pharmacy insurance university college school institute foundation ministry
    council agency association society club airlines airways systems solutions technologies
    technology software labs lab studio studios partners holdings industries logistics
    freight marine motors cloud web platform api app apps store shop pay street road avenue
    drive boulevard square station airport city county river lake mount circle plaza
    beach bay hotel restaurant cafe church building tower bridge microsoft google apple
    amazon meta facebook twitter linkedin slack zoom github gitlab jira confluence
    salesforce oracle ibm intel nvidia openai anthropic windows visual studio code office
    department dept board committee new north south east west central national
    international global united american british european royal san santa los las fort
    port upper great times journal post news herald tribune gazette
    """.split()
)
"""A run holding one of these names an organisation, product or place ("Microsoft Teams",
"Tri-County Freight", "Baker Street"), not a person."""

PARTICLES = frozenset(
    "van von der den de del della di da dos das du le la ter ten bin binti ibn al el zu y e".split()
)
"""Lower-case words inside a name ("Cornelius van Rijn", "Lucía de la Cruz")."""
