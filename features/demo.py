"""The demo magazine: sections, authors, features and a crossword, like a 2009 staff magazine."""

SECTIONS = [
    ("Features", "features", "Longer reads on how we work and the people who do it.", 1),
    ("News", "news", "What is new across the organisation.", 2),
    ("Opinion", "opinion", "Comment and argument from colleagues and guests.", 3),
    ("Interviews", "interviews", "Conversations with the people behind the work.", 4),
]

# slug: (name, job title, organisation, bio)
AUTHORS = {
    "pippa-gough": (
        "Pippa Gough", "Assistant Director in Clinical Quality", "The Health Foundation",
        "Pippa works on how clinical teams learn to lead improvement.",
    ),
    "abigail-masterson": (
        "Abigail Masterson", "Assistant Director in Clinical Quality", "The Health Foundation",
        "Abigail studies leadership development programmes and what makes them stick.",
    ),
    "morgan-price": (
        "Morgan Price", "Head of Communications", "",
        "Morgan edits the magazine and looks after our news feeds.",
    ),
    "jordan-ellis": (
        "Jordan Ellis", "Staff Writer", "",
        "Jordan covers policy, people and the occasional crossword controversy.",
    ),
    "priya-raman": (
        "Priya Raman", "Medical Director", "Northfield Hospitals Trust",
        "Priya is a consultant physician and writes about patient safety.",
    ),
    "tom-okafor": (
        "Tom Okafor", "Policy Adviser", "",
        "Tom follows legislation and guidance as it moves through the four nations.",
    ),
}  # fmt: skip

LEADERSHIP_BODY = """
<p>Every part of the UK is putting money into developing clinical leaders, in the hope that
better leadership will mean better care. That raises two questions worth asking out loud: what
kind of leadership actually improves a service, and how do people learn to do it?</p>
<p>The picture many of us grew up with is of one strong figure at the top who sets the
direction, carries the plan and takes the credit or the blame. It is a tidy picture, and it
rarely matches how improvement happens on a ward or in a practice.</p>
<p>Lasting change usually needs everyone involved in a service to own a piece of it. The
leader's job shifts from supplying answers to framing the right questions, keeping the
conversation going and making room for staff, patients, carers and partner organisations to
shape the solution together.</p>
<h2>Learning to lead this way</h2>
<p>There is no shortage of leadership courses, but the evidence, and our own experience,
points towards learning that happens at work: projects with real stakes, and action learning
sets that bring different professions round the same table.</p>
<p>None of this works without support from the organisation. People who try to lead change,
and those who already model it, need time, backing and permission to experiment.</p>
"""

# slug: (title, section, [author slugs], date, tags, standfirst, body, status)
# status is "published", "draft", "in_review" or "scheduled".
FEATURES = [
    (
        "leading-on-leadership",
        "Leading on leadership",
        "features",
        ["pippa-gough", "abigail-masterson"],
        "2009-03-25 09:00",
        ["Leadership", "Clinical quality"],
        "Two assistant directors at the Health Foundation ask what leadership for "
        "improvement looks like in today's clinical settings, and how it can be learned.",
        LEADERSHIP_BODY,
        "published",
    ),
    (
        "new-guidance-on-consent",
        "New guidance on consent comes into force",
        "news",
        ["tom-okafor"],
        "2009-03-20 10:30",
        ["Guidance", "Consent"],
        "Updated guidance on seeking patients' consent applies from next month. "
        "Here is what changes and what stays the same.",
        "<p>The revised guidance keeps the principle that patients decide, with the "
        "information they need, and adds clearer advice on recording those conversations.</p>"
        "<p>Workshops run in every region during April; places can be booked through the "
        "learning portal.</p>",
        "published",
    ),
    (
        "a-day-on-the-helpline",
        "A day on the enquiries helpline",
        "features",
        ["jordan-ellis"],
        "2009-03-18 08:15",
        ["People", "Public service"],
        "From registration questions to complaints, the helpline team answers four "
        "hundred calls on a busy day. We spent one with them.",
        "<p>The first call comes in at two minutes past eight. By lunchtime the team has "
        "dealt with lapsed registrations, a lost certificate and a caller who simply wanted "
        "to say thank you.</p><p>What strikes a visitor is how much of the work is listening.</p>",
        "published",
    ),
    (
        "why-revalidation-matters",
        "Why revalidation matters to patients",
        "opinion",
        ["priya-raman"],
        "2009-03-12 12:00",
        ["Revalidation", "Patient safety"],
        "A medical director argues that regular checks on doctors' practice are about "
        "confidence, not suspicion.",
        "<p>Patients assume that the doctor in front of them is up to date. Revalidation is "
        "how we make that assumption safe.</p><p>Done well, it is a conversation about "
        "practice, not a test to be passed.</p>",
        "published",
    ),
    (
        "in-conversation-with-the-chair",
        "In conversation with the chair",
        "interviews",
        ["morgan-price"],
        "2009-03-05 09:00",
        ["Leadership", "Governance"],
        "Our chair on twelve months in post, listening to the public, and the year ahead.",
        "<p><strong>What surprised you most in your first year?</strong></p><p>How much "
        "patients want to be involved, and how often we made that harder than it should be.</p>",
        "published",
    ),
    (
        "records-office-moves",
        "Records office moves to the third floor",
        "news",
        ["jordan-ellis"],
        "2009-02-27 16:00",
        ["Estates"],
        "The records team has a new home from Monday. Paper requests should use the new "
        "room number.",
        "<p>The move frees space on the ground floor for the new visitor centre.</p>",
        "published",
    ),
    (
        "learning-from-complaints",
        "Learning from complaints",
        "features",
        ["priya-raman", "morgan-price"],
        "2009-02-19 11:00",
        ["Patient safety", "Clinical quality"],
        "Complaints are uncomfortable, but they are also free advice. How one trust turned "
        "its complaints log into an improvement plan.",
        "<p>Every complaint was read by a clinician and a manager together, and every "
        "theme was given an owner.</p><p>Within a year, repeat complaints had halved.</p>",
        "published",
    ),
    (
        "the-four-nations-picture",
        "The four nations picture",
        "opinion",
        ["tom-okafor"],
        "2009-02-10 09:30",
        ["Policy"],
        "Health policy now differs across England, Scotland, Wales and Northern Ireland. "
        "What does that mean for a UK-wide regulator?",
        "<p>Divergence is not a problem to be solved; it is the setting we work in.</p>",
        "published",
    ),
    (
        "meet-the-student-panel",
        "Meet the student panel",
        "interviews",
        ["jordan-ellis"],
        "2009-02-03 14:00",
        ["Education", "People"],
        "Six medical students advise us on education standards. They told us what they "
        "would change first.",
        "<p>Feedback, they said unanimously, should arrive while it can still make a "
        "difference.</p>",
        "published",
    ),
    (
        "annual-conference-announced",
        "Annual conference dates announced",
        "news",
        ["morgan-price"],
        "2009-01-28 10:00",
        ["Events"],
        "This year's conference will be held in Manchester in October, with a theme of "
        "shared leadership.",
        "<p>Calls for workshop proposals open next month.</p>",
        "published",
    ),
    (
        "mentoring-new-consultants",
        "Mentoring new consultants",
        "features",
        ["abigail-masterson"],
        "2009-01-20 09:00",
        ["Leadership", "Education"],
        "The first year as a consultant is a leadership role whether or not anyone says so. "
        "Mentoring schemes can help.",
        "<p>Mentees in the pilot scheme valued one thing above all: someone outside their "
        "line management to think aloud with.</p>",
        "published",
    ),
    (
        "a-winter-of-pressure",
        "A winter of pressure",
        "opinion",
        ["priya-raman"],
        "2009-01-12 08:00",
        ["Patient safety"],
        "Winter tests every hospital. It should also test our assumptions about where "
        "the pressure really comes from.",
        "<p>The queue in the emergency department often begins on the discharge ward.</p>",
        "published",
    ),
    (
        "crossword-champion-crowned",
        "Crossword champion crowned",
        "news",
        ["jordan-ellis"],
        "2009-01-05 12:00",
        ["Crossword", "People"],
        "After a record number of entries, the winter crossword prize goes to the "
        "finance team, for the second year running.",
        "<p>The winning entry arrived eleven minutes after the crossword was published.</p>",
        "published",
    ),
    # Not live: these must never appear on the public site or in feeds.
    (
        "draft-budget-briefing",
        "Draft: budget briefing for staff",
        "news",
        ["tom-okafor"],
        None,
        ["Policy"],
        "A briefing on next year's budget, still being written.",
        "<p>Figures to follow once the board has met.</p>",
        "draft",
    ),
    (
        "review-new-intranet",
        "The new intranet, reviewed",
        "features",
        ["jordan-ellis"],
        None,
        ["People"],
        "Staff tested the new intranet for a month. Here is what they found.",
        "<p>Search was the most requested improvement.</p>",
        "in_review",
    ),
    (
        "spring-conference-preview",
        "Spring conference preview",
        "news",
        ["morgan-price"],
        "scheduled",
        ["Events"],
        "What to expect at the spring conference, published the week before it opens.",
        "<p>Speakers, workshops and how to book.</p>",
        "scheduled",
    ),
]

CROSSWORD = {
    "slug": "crossword-march-2009",
    "title": "Crossword, March 2009",
    "description": "This month's cryptic crossword, with a prize for the first correct entry.",
    "date": "2009-03-25 09:00",
}
