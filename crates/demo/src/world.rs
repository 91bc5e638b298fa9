//! The selling organisation and its market: the workspace, teams, people, accounts and their
//! contacts. Deals are generated against this world.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::{FiscalCalendar, Period};
use pipewise_core::crm::{Account, BuyingRole, Contact};
use pipewise_core::ids::{AccountId, ContactId, TeamId, UserId, WorkspaceId};
use pipewise_core::money::Currency;
use pipewise_core::org::{Role, Team, User, Workspace};
use pipewise_core::text::{Email, Label, Name, Slug, WebDomain};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::DemoError;
use crate::model::{Segment, weighted};
use crate::names;

/// Regions and their shares of accounts.
const REGIONS: [(&str, f64); 3] = [("North America", 0.5), ("EMEA", 0.35), ("APAC", 0.15)];
/// Fiscal years start in February, so fiscal quarters differ from calendar ones.
const FISCAL_YEAR_START_MONTH: u32 = 2;
/// Quarters of history, the current one included.
pub const QUARTERS: u32 = 8;
/// At the default size: reps per team and teams per manager.
const REPS_PER_TEAM: [usize; 4] = [6, 6, 6, 7];

/// A team and the segment it sells to.
pub struct TeamInfo {
    pub team: Team,
    pub segment: Segment,
    /// Enterprise teams split the world: the first covers North America, the second the rest.
    pub regions: &'static [&'static str],
    pub reps: Vec<UserId>,
}

pub struct AccountInfo {
    pub account: Account,
    pub segment: Segment,
    /// Indices into [`World::contacts`].
    pub contacts: Vec<usize>,
}

/// Everything deals are generated against.
pub struct World {
    pub workspace: Workspace,
    pub calendar: FiscalCalendar,
    pub as_of: NaiveDate,
    /// When the oldest deals in the history may have been created.
    pub history_start: DateTime<Utc>,
    /// End of the generated history: the end of `as_of`.
    pub history_end: DateTime<Utc>,
    pub users: Vec<User>,
    pub vp: UserId,
    pub teams: Vec<TeamInfo>,
    pub accounts: Vec<AccountInfo>,
    pub contacts: Vec<Contact>,
    /// Indices into `accounts` by segment.
    pub accounts_by_segment: [Vec<usize>; 3],
    /// Reps by the segment they sell to.
    pub reps_by_segment: [Vec<UserId>; 3],
    /// Index into `teams` by rep.
    team_of_rep: HashMap<UserId, usize>,
}

impl World {
    pub fn build(
        rng: &mut ChaCha8Rng,
        slug: &Slug,
        scale: f64,
        as_of: NaiveDate,
    ) -> Result<Self, DemoError> {
        let calendar =
            FiscalCalendar::starting_in(FISCAL_YEAR_START_MONTH).map_err(DemoError::model)?;
        let current = calendar.quarter_of(as_of);
        let first_quarter = shift_quarter(current, 1 - QUARTERS as i32);
        // Deals closing early in the first quarter were opened up to half a year before it.
        let first_day = calendar.range(first_quarter).start - Duration::days(180);
        let history_start = Utc.from_utc_datetime(&first_day.and_time(chrono::NaiveTime::MIN));
        let history_end = Utc.from_utc_datetime(&as_of.and_hms_opt(23, 59, 59).unwrap_or_default());
        let founded = history_start - Duration::days(400);
        let workspace = Workspace {
            id: WorkspaceId::from_parts(millis(founded), rng.random()),
            slug: slug.clone(),
            name: name("Acme Analytics (demo)")?,
            corporate_currency: Currency::USD,
            fiscal_calendar: calendar,
            rep_visibility: RepVisibility::Team,
            created_at: founded,
        };
        let mut world = World {
            workspace,
            calendar,
            as_of,
            history_start,
            history_end,
            users: Vec::new(),
            vp: UserId::from_parts(millis(founded), rng.random()),
            teams: Vec::new(),
            accounts: Vec::new(),
            contacts: Vec::new(),
            accounts_by_segment: Default::default(),
            reps_by_segment: Default::default(),
            team_of_rep: HashMap::new(),
        };
        world.build_org(rng, scale, founded)?;
        world.build_accounts(rng, scale)?;
        Ok(world)
    }

    fn build_org(
        &mut self,
        rng: &mut ChaCha8Rng,
        scale: f64,
        founded: DateTime<Utc>,
    ) -> Result<(), DemoError> {
        let domain = "acme-analytics.example";
        let person = |rng: &mut ChaCha8Rng,
                      role,
                      manager,
                      team,
                      title: Option<&str>|
         -> Result<User, DemoError> {
            let (first, last) = names::person(rng);
            let id = UserId::from_parts(millis(founded), rng.random());
            let local = format!("{}.{}", names::slug(&first), names::slug(&last));
            // Short unique suffix: two reps may share a name.
            let email = format!("{local}.{}@{domain}", &id.to_string()[24..28]);
            let full = match title {
                Some(title) => format!("{first} {last} ({title})"),
                None => format!("{first} {last}"),
            };
            Ok(User {
                id,
                name: name(&full)?,
                email: Email::parse(&email).map_err(DemoError::model)?,
                role,
                manager_id: manager,
                team_id: team,
                created_at: founded,
            })
        };
        let mut vp = person(rng, Role::Manager, None, None, Some("VP Sales"))?;
        vp.id = self.vp;
        let revops = person(rng, Role::Admin, Some(self.vp), None, Some("RevOps"))?;
        let finance = person(rng, Role::Viewer, None, None, Some("Finance"))?;
        self.users.extend([vp, revops, finance]);

        let groups = (scale.round() as usize).max(1);
        for group in 0..groups {
            let suffix = if groups > 1 {
                format!(" {}", group + 1)
            } else {
                String::new()
            };
            let enterprise = person(
                rng,
                Role::Manager,
                Some(self.vp),
                None,
                Some("Enterprise sales manager"),
            )?;
            let commercial = person(
                rng,
                Role::Manager,
                Some(self.vp),
                None,
                Some("Commercial sales manager"),
            )?;
            let plan: [(&str, Segment, &'static [&'static str], UserId); 4] = [
                (
                    "Enterprise Americas",
                    Segment::Enterprise,
                    &["North America"],
                    enterprise.id,
                ),
                (
                    "Enterprise EMEA & APAC",
                    Segment::Enterprise,
                    &["EMEA", "APAC"],
                    enterprise.id,
                ),
                (
                    "Mid-Market",
                    Segment::MidMarket,
                    &["North America", "EMEA", "APAC"],
                    commercial.id,
                ),
                (
                    "SMB",
                    Segment::Smb,
                    &["North America", "EMEA", "APAC"],
                    commercial.id,
                ),
            ];
            self.users.extend([enterprise, commercial]);
            for ((team_name, segment, regions, manager), reps) in
                plan.into_iter().zip(REPS_PER_TEAM)
            {
                let team = Team {
                    id: TeamId::from_parts(millis(founded), rng.random()),
                    name: name(&format!("{team_name}{suffix}"))?,
                    created_at: founded,
                };
                let mut info = TeamInfo {
                    team,
                    segment,
                    regions,
                    reps: Vec::new(),
                };
                for _ in 0..reps {
                    let rep = person(rng, Role::Rep, Some(manager), Some(info.team.id), None)?;
                    info.reps.push(rep.id);
                    self.reps_by_segment[segment as usize].push(rep.id);
                    self.team_of_rep.insert(rep.id, self.teams.len());
                    self.users.push(rep);
                }
                self.teams.push(info);
            }
        }
        Ok(())
    }

    fn build_accounts(&mut self, rng: &mut ChaCha8Rng, scale: f64) -> Result<(), DemoError> {
        let count = (3000.0 * scale).round() as usize;
        // Companies that happen to share a generated name get distinct domains, so the only
        // duplicate domains are the deliberate twins below.
        let mut domains_used: HashMap<String, u32> = HashMap::new();
        for _ in 0..count {
            let segment = weighted(rng, &Segment::ALL.map(|s| (s, s.account_share())));
            let region = weighted(rng, &REGIONS);
            let created_at = self.history_start - Duration::days(rng.random_range(1..900));
            // One account in a hundred is a duplicate of an earlier one, as real CRMs have.
            let twin = match self.accounts.len() {
                0 => None,
                n if rng.random_bool(0.01) => self.accounts.get(rng.random_range(0..n)),
                _ => None,
            };
            let (company, domain) = match twin
                .and_then(|t| Some((&t.account.name, t.account.domain.as_ref()?)))
            {
                Some((twin_name, twin_domain)) => (
                    format!("{twin_name} Inc"),
                    format!("https://www.{twin_domain}/"),
                ),
                None => {
                    let (company, domain) = names::company(rng);
                    let uses = domains_used.entry(domain.clone()).or_insert(0);
                    *uses += 1;
                    match domain.split_once('.') {
                        Some((name, tld)) if *uses > 1 => (company, format!("{name}{uses}.{tld}")),
                        _ => (company, domain),
                    }
                }
            };
            let team = self.team_for(segment, region, rng);
            let owner = team.and_then(|t| t.reps.choose(rng).copied());
            let tier = match segment {
                Segment::Enterprise if rng.random_bool(0.6) => "tier_1",
                Segment::Enterprise | Segment::MidMarket => "tier_2",
                Segment::Smb => "tier_3",
            };
            let id = AccountId::from_parts(millis(created_at), rng.random());
            let domain = WebDomain::parse(&domain).map_err(DemoError::model)?;
            let account = Account {
                version: 1,
                id,
                name: name(&company)?,
                domain: Some(domain),
                industry: Some(label(
                    names::INDUSTRIES.choose(rng).copied().unwrap_or("Retail"),
                )?),
                employee_band: Some(
                    weighted(rng, segment.employee_bands())
                        .parse()
                        .map_err(DemoError::model)?,
                ),
                region: Some(label(region)?),
                segment: Some(label(segment.label())?),
                tier: Some(tier.parse().map_err(DemoError::model)?),
                owner_id: owner,
                created_at,
            };
            let contacts = self.build_contacts(rng, &account, segment)?;
            self.accounts_by_segment[segment as usize].push(self.accounts.len());
            self.accounts.push(AccountInfo {
                account,
                segment,
                contacts,
            });
        }
        Ok(())
    }

    fn build_contacts(
        &mut self,
        rng: &mut ChaCha8Rng,
        account: &Account,
        segment: Segment,
    ) -> Result<Vec<usize>, DemoError> {
        let count = match segment {
            Segment::Smb => rng.random_range(2..=3),
            Segment::MidMarket => rng.random_range(3..=4),
            Segment::Enterprise => rng.random_range(4..=6),
        };
        let domain = account
            .domain
            .as_ref()
            .map_or("example.com", |d| d.as_str());
        let mut ids = Vec::with_capacity(count);
        // The first titles cover the roles a decision needs; larger accounts add more.
        for (title, role) in names::CONTACT_TITLES.iter().take(count.max(2)) {
            let (first, last) = names::person(rng);
            let created_at = account.created_at + Duration::days(rng.random_range(0..60));
            let id = ContactId::from_parts(millis(created_at), rng.random());
            let email = (!rng.random_bool(0.03))
                .then(|| format!("{}.{}@{domain}", names::slug(&first), names::slug(&last)));
            let buying_role: Option<BuyingRole> =
                role.map(str::parse).transpose().map_err(DemoError::model)?;
            ids.push(self.contacts.len());
            self.contacts.push(Contact {
                version: 1,
                id,
                account_id: account.id,
                name: name(&format!("{first} {last}"))?,
                email: email
                    .map(|e| Email::parse(&e))
                    .transpose()
                    .map_err(DemoError::model)?,
                title: Some(label(title)?),
                buying_role,
                created_at,
            });
        }
        Ok(ids)
    }

    fn team_for(&self, segment: Segment, region: &str, rng: &mut ChaCha8Rng) -> Option<&TeamInfo> {
        let candidates: Vec<&TeamInfo> = self
            .teams
            .iter()
            .filter(|t| t.segment == segment && t.regions.contains(&region))
            .collect();
        candidates.choose(rng).copied()
    }

    /// The team a rep belongs to.
    pub fn team_of(&self, rep: UserId) -> Option<&TeamInfo> {
        self.team_of_rep.get(&rep).and_then(|i| self.teams.get(*i))
    }

    /// The quarters of the history, oldest first, then the next one.
    pub fn quarters(&self) -> Vec<Period> {
        let current = self.calendar.quarter_of(self.as_of);
        let first = shift_quarter(current, 1 - QUARTERS as i32);
        (0..=QUARTERS as i32)
            .map(|i| shift_quarter(first, i))
            .collect()
    }
}

/// The quarter `by` quarters after `period` (before, if negative); other periods unchanged.
fn shift_quarter(period: Period, by: i32) -> Period {
    match period {
        Period::Quarter { year, quarter } => {
            let index = year * 4 + quarter as i32 - 1 + by;
            Period::Quarter {
                year: index.div_euclid(4),
                quarter: index.rem_euclid(4) as u32 + 1,
            }
        }
        other => other,
    }
}

pub fn millis(at: DateTime<Utc>) -> u64 {
    u64::try_from(at.timestamp_millis()).unwrap_or_default()
}

pub fn name(text: &str) -> Result<Name, DemoError> {
    Name::parse(text).map_err(DemoError::model)
}

pub fn label(text: &str) -> Result<Label, DemoError> {
    Label::parse(text).map_err(DemoError::model)
}
