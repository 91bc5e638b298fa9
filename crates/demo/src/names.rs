//! Word lists for names, titles and the sentences reps write. All companies are fictional.

use rand::Rng;
use rand::seq::IndexedRandom;

pub const FIRST_NAMES: &[&str] = &[
    "Ana",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nikhil",
    "Olivia",
    "Pablo",
    "Quinn",
    "Rosa",
    "Samir",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zoe",
    "Amir",
    "Bianca",
    "Carlos",
    "Dana",
    "Emeka",
    "Freya",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Rafael",
    "Sofia",
    "Tomas",
    "Valentina",
    "William",
    "Yusuf",
    "Zara",
    "Aisha",
    "Bruno",
    "Clara",
    "Diego",
    "Eva",
];

pub const LAST_NAMES: &[&str] = &[
    "Alvarez",
    "Becker",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinlan",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
    "Andersson",
    "Brown",
    "Costa",
    "Novak",
    "Singh",
    "Kim",
    "Murphy",
    "O'Brien",
    "Haddad",
    "Lindqvist",
    "Mendes",
    "Rahman",
    "Silva",
    "Walker",
    "Fernandes",
    "Nguyen",
    "Ivanova",
    "Kaur",
    "Sato",
    "Horvat",
];

const COMPANY_FIRST: &[&str] = &[
    "Northwind",
    "Blue Harbor",
    "Granite",
    "Silverline",
    "Redwood",
    "Summit",
    "Brightwater",
    "Ironbridge",
    "Clearpath",
    "Oakridge",
    "Sunpeak",
    "Harborview",
    "Stonegate",
    "Evergreen",
    "Bluestone",
    "Copperfield",
    "Lakeshore",
    "Highland",
    "Westbrook",
    "Fairmont",
    "Riverside",
    "Pinecrest",
    "Crescent",
    "Meridian",
    "Aurora",
    "Beacon",
    "Cobalt",
    "Falcon",
    "Juniper",
    "Keystone",
    "Lumen",
    "Maple",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quarry",
    "Sterling",
    "Tidewater",
    "Union",
    "Vantage",
    "Willow",
    "Zephyr",
    "Atlas",
    "Birch",
    "Cedar",
    "Delta",
    "Ember",
    "Fjord",
];

const COMPANY_SECOND: &[&str] = &[
    "Logistics",
    "Foods",
    "Health",
    "Manufacturing",
    "Retail",
    "Energy",
    "Insurance",
    "Freight",
    "Pharma",
    "Software",
    "Telecom",
    "Media",
    "Bank",
    "Capital",
    "Foods Group",
    "Industries",
    "Systems",
    "Hotels",
    "Airlines",
    "Motors",
    "Construction",
    "Labs",
    "Utilities",
    "Textiles",
];

const TLDS: &[&str] = &[
    "com", "com", "com", "io", "co.uk", "de", "fr", "nl", "com.au", "co",
];

pub const INDUSTRIES: &[&str] = &[
    "Logistics",
    "Food & Beverage",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Energy",
    "Financial Services",
    "Software",
    "Telecommunications",
    "Media",
    "Hospitality",
    "Construction",
];

pub const COMPETITORS: &[&str] = &[
    "Initrode",
    "Vandelay Software",
    "Hooli Analytics",
    "Umbrella Metrics",
    "Cyberdyne BI",
];

/// `(title, buying role word)`: the role a person with that title usually plays.
pub const CONTACT_TITLES: &[(&str, Option<&str>)] = &[
    ("Chief Financial Officer", Some("economic_buyer")),
    ("VP Operations", Some("decision_maker")),
    ("Director of Analytics", Some("champion")),
    ("Head of Procurement", Some("procurement")),
    ("General Counsel", Some("legal")),
    ("Chief Executive Officer", Some("signer")),
    ("IT Security Lead", Some("blocker")),
    ("Operations Manager", Some("influencer")),
    ("Data Engineer", None),
    ("Finance Manager", Some("influencer")),
];

pub fn person(rng: &mut impl Rng) -> (String, String) {
    let first = FIRST_NAMES.choose(rng).copied().unwrap_or("Alex");
    let last = LAST_NAMES.choose(rng).copied().unwrap_or("Morgan");
    (first.to_owned(), last.to_owned())
}

/// A company name and its web domain, e.g. `("Granite Freight", "granitefreight.de")`.
pub fn company(rng: &mut impl Rng) -> (String, String) {
    let first = COMPANY_FIRST.choose(rng).copied().unwrap_or("Acme");
    let second = COMPANY_SECOND.choose(rng).copied().unwrap_or("Industries");
    let tld = TLDS.choose(rng).copied().unwrap_or("com");
    let name = format!("{first} {second}");
    let domain = format!("{}.{tld}", slug(&name));
    (name, domain)
}

/// Lower-case letters and digits only: `Blue Harbor Foods` → `blueharborfoods`.
pub fn slug(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Why a deal moved forward into the stage at `index` (0 = qualified).
pub fn advance_reason(index: usize, rng: &mut impl Rng) -> &'static str {
    let choices: &[&str] = match index {
        0 => &[
            "Fit confirmed; sponsor agreed to involve finance",
            "Real pain confirmed in discovery",
        ],
        1 => &[
            "Impact quantified with the operations director",
            "Success criteria agreed: metric, baseline, target and date",
            "Manual reporting costs two full-time analysts; baseline agreed",
        ],
        2 => &[
            "Budget approved for this fiscal year",
            "Project funded; evaluation of four vendors started",
            "RFP issued with our requirements included",
        ],
        3 => &[
            "Shortlisted with two other vendors",
            "Mutual action plan agreed with the champion",
            "Reference calls completed; down to the final three",
        ],
        4 => &[
            "Buyer confirmed we are the vendor of choice",
            "Pricing proposal under review by finance",
            "Selected after the technical validation",
        ],
        _ => &[
            "MSA in redlines with legal",
            "Procurement onboarding started; signature date set",
            "Security review passed; contract with legal",
        ],
    };
    choices
        .choose(rng)
        .copied()
        .unwrap_or("Buyer confirmed the step")
}

pub fn backward_reason(rng: &mut impl Rng) -> &'static str {
    [
        "Budget frozen until next quarter",
        "Champion left the company; re-qualifying",
        "New CFO asked for a fresh business case",
        "Scope changed; vendors re-evaluated",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("Buyer stepped back")
}

pub fn next_step(index: usize, rng: &mut impl Rng) -> &'static str {
    let choices: &[&str] = match index {
        0 => &[
            "Discovery workshop with the operations team",
            "Intro call with the finance lead",
        ],
        1 => &[
            "Review the impact model with the CFO",
            "Agree success metrics and baselines",
        ],
        2 => &[
            "Technical deep dive with IT",
            "Demo tailored to the reporting use case",
        ],
        3 => &[
            "Reference call with a similar customer",
            "Confirm decision date in the action plan",
        ],
        4 => &[
            "Walk finance through the pricing proposal",
            "Agree implementation plan",
        ],
        _ => &[
            "Return redlines to legal",
            "Chase signature with procurement",
        ],
    };
    choices
        .choose(rng)
        .copied()
        .unwrap_or("Follow up with the buyer")
}

pub fn loss_reason(loss_type: &str, competitor: &str, rng: &mut impl Rng) -> String {
    match loss_type {
        "competition" => {
            let why = [
                "lower price",
                "existing relationship",
                "broader suite",
                "faster implementation",
            ]
            .choose(rng)
            .copied()
            .unwrap_or("better fit");
            format!("Chose {competitor}: {why}")
        }
        "no_decision" => [
            "Project deprioritised after reorganisation",
            "Went dark after the pricing call",
            "Decided to keep the spreadsheets for now",
            "Budget moved to another initiative",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("No decision made")
        .to_owned(),
        "disqualified" => [
            "No budget and no path to funding within 12 months",
            "Outside our ideal customer profile",
            "Student project, no buying intent",
        ]
        .choose(rng)
        .copied()
        .unwrap_or("Not a fit")
        .to_owned(),
        _ => "Duplicate of an existing opportunity".to_owned(),
    }
}
