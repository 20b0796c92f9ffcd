"""Names that are no data subject's: public figures a prompt discusses ("Abraham Lincoln's
speech", "in the style of Jane Austen"), fictional characters, and the placeholder names of
documentation and forms ("John Doe", "Max Mustermann"). Hand-written, lower case, accents
folded; a run equal to one, or ending in a surname listed alone, is low confidence.

A list cannot hold every public figure; it holds the ones prompts name most, and the cues
in `name_cues.PUBLIC` and `name_cues.WORKS` catch others by how they are written about.
"""

from __future__ import annotations

PUBLIC_FIGURES = frozenset(
    name.strip()
    for name in """
    abraham lincoln|george washington|thomas jefferson|john adams|benjamin franklin
    theodore roosevelt|franklin roosevelt|franklin d roosevelt|john f kennedy|john kennedy
    richard nixon|ronald reagan|jimmy carter|bill clinton|george bush|george w bush
    barack obama|donald trump|joe biden|kamala harris|hillary clinton|winston churchill
    margaret thatcher|tony blair|boris johnson|queen elizabeth|elizabeth ii|king charles
    princess diana|angela merkel|emmanuel macron|vladimir putin|xi jinping|narendra modi
    nelson mandela|mahatma gandhi|martin luther king|martin luther|malcolm x|rosa parks
    mother teresa|pope francis|napoleon bonaparte|julius caesar|alexander the great
    cleopatra|karl marx|adam smith|john maynard keynes|milton friedman|albert einstein
    isaac newton|charles darwin|marie curie|nikola tesla|thomas edison|galileo galilei
    stephen hawking|richard feynman|alan turing|ada lovelace|grace hopper|niels bohr
    max planck|carl sagan|sigmund freud|carl jung|leonardo da vinci|michelangelo
    vincent van gogh|pablo picasso|claude monet|frida kahlo|salvador dali|andy warhol
    rembrandt van rijn|william shakespeare|jane austen|charles dickens|mark twain
    ernest hemingway|george orwell|virginia woolf|leo tolstoy|fyodor dostoevsky
    franz kafka|james joyce|oscar wilde|emily dickinson|edgar allan poe|j k rowling
    jk rowling|stephen king|agatha christie|toni morrison|maya angelou|homer simpson
    wolfgang amadeus mozart|ludwig van beethoven|johann sebastian bach|frederic chopin
    elvis presley|michael jackson|john lennon|paul mccartney|bob dylan|bob marley
    freddie mercury|david bowie|madonna|beyonce|taylor swift|lady gaga|kanye west
    rihanna|adele|ed sheeran|justin bieber|billie eilish|elon musk|jeff bezos|bill gates
    steve jobs|steve wozniak|mark zuckerberg|sam altman|satya nadella|sundar pichai
    tim cook|larry page|sergey brin|warren buffett|linus torvalds|guido van rossum
    dennis ritchie|ken thompson|tim berners lee|jensen huang|dario amodei|jack dorsey
    oprah winfrey|tom hanks|meryl streep|leonardo dicaprio|brad pitt|angelina jolie
    marilyn monroe|charlie chaplin|audrey hepburn|morgan freeman|keanu reeves
    scarlett johansson|tom cruise|will smith|denzel washington|serena williams
    roger federer|rafael nadal|novak djokovic|lionel messi|cristiano ronaldo|pele
    michael jordan|lebron james|usain bolt|muhammad ali|tiger woods|simone biles
    sherlock holmes|john watson|harry potter|hermione granger|ron weasley|albus dumbledore
    frodo baggins|bilbo baggins|luke skywalker|darth vader|han solo|james bond
    bruce wayne|clark kent|peter parker|tony stark|mickey mouse|santa claus
    john doe|jane doe|john q public|joe bloggs|joe public|max mustermann
    erika mustermann|richard roe|fulano de tal|florence nightingale|joan of arc
    mona lisa|anne frank|che guevara|amelia earhart|neil armstrong|buzz aldrin|yuri gagarin
    morgan stanley|goldman sachs|wells fargo|charles schwab|dow jones|tim hortons
    louis vuitton|ralph lauren|calvin klein|tommy hilfiger|hugo boss|estee lauder
    jack daniel|jack daniels|harley davidson|mercedes benz|rolls royce|aston martin
    alfa romeo|walt disney|martha stewart|ben jerry|johnson johnson|marks spencer
    procter gamble|ernst young|dolce gabbana|yves saint laurent|christian dior|coco chanel
    giorgio armani|tom ford|kate spade|michael kors|ray ban|john deere|dr pepper
    ronald mcdonald|wendy|sherwin williams|charles river|lloyd|barnes noble
    dr martens|dr oetker|dr scholl|dr seuss|dr who|doctor who|dr dre|dr phil
    mr clean|mr muscle|mr potato head|mrs doubtfire|dr jekyll|dr frankenstein
    hello kitty|dear abby|uncle ben|aunt jemima|papa john|little caesar|betty crocker
    hercule poirot|miss marple|jane marple|mr darcy|professor moriarty|mr hyde
    elizabeth bennet|jay gatsby|atticus finch
    holden caulfield|jane eyre|anna karenina|don quixote|huckleberry finn|tom sawyer
    baker mckenzie|clifford chance|allen overy|latham watkins|kirkland ellis|skadden arps
    sullivan cromwell|davis polk|simpson thacher|cleary gottlieb|white case|norton rose
    hogan lovells|dla piper|herbert smith|slaughter may|freshfields bruckhaus|jones day
    morgan lewis|sidley austin|mayer brown|paul weiss|wachtell lipton|cravath swaine
    grant thornton|arthur andersen|price waterhouse|booz allen|ernst young|marsh mclennan
    """.replace("\n", "|").split("|")
) - {""}
"""Full names, as the run reads after folding (lower case, no accents, no dots); brands and
characters named with a title or a greeting ("dr martens", "hello kitty") are matched
with the word before the run. Only names that are seldom a private person's: "Dr. Watson"
and "Mrs. Fields" are real patients' and clinicians' names as often as fiction's and a
brand's (the goods after "Mrs. Fields cookies" tell those apart)."""

PUBLIC_SURNAMES = frozenset(
    """
    lincoln einstein newton darwin shakespeare churchill napoleon gandhi mandela obama
    trump biden mozart beethoven bach picasso hemingway dickens tolstoy kafka freud
    turing tesla edison curie hawking feynman musk bezos zuckerberg torvalds
    """.split()
)
"""Surnames that name one public figure when written alone after a title or first name
that is not a cue ("Einstein's theory", "President Lincoln")."""
