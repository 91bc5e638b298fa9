//! Breaking a metric down: which slice, or slices, a deal falls in by one or more dimensions
//! at once (owner × segment…). Values are resolved to small codes once per distinct value,
//! so a scan over a million deals allocates nothing per deal.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;

use chrono::NaiveDate;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::ids::{AccountId, TeamId, UserId};
use pipewise_core::money::{Currency, Money};
use serde::Serialize;

use super::{Interner, NONE, NONE_U16, Projection};

/// What a metric can be broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Dimension {
    /// The deal's owner.
    Owner,
    /// Every manager above the owner, each holding the deals of their whole subtree: the
    /// roll-up. A deal is in several of these slices, so they do not add up to the whole.
    Manager,
    /// The owner's team.
    Team,
    Segment,
    Source,
    Competitor,
    /// The region of the deal's account.
    Region,
    /// The band the deal's amount falls in ([`SizeBands`]).
    SizeBand,
}

impl Dimension {
    pub const ALL: [Dimension; 8] = [
        Dimension::Owner,
        Dimension::Manager,
        Dimension::Team,
        Dimension::Segment,
        Dimension::Source,
        Dimension::Competitor,
        Dimension::Region,
        Dimension::SizeBand,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Owner => "owner",
            Dimension::Manager => "manager",
            Dimension::Team => "team",
            Dimension::Segment => "segment",
            Dimension::Source => "source",
            Dimension::Competitor => "competitor",
            Dimension::Region => "region",
            Dimension::SizeBand => "size-band",
        }
    }

    /// The dimension named `name` (as [`Dimension::as_str`] spells it, or with an underscore
    /// for the hyphen: `size_band`).
    pub fn parse(name: &str) -> Option<Dimension> {
        let name = name.replace('_', "-");
        Dimension::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// What slicing needs from outside the log: names of people, their teams and managers,
/// accounts' regions.
#[derive(Debug, Clone, Default)]
pub struct SliceContext {
    pub user_names: HashMap<UserId, String>,
    pub teams: HashMap<UserId, String>,
    /// Team names by team, to find a team's target.
    pub team_names: HashMap<TeamId, String>,
    /// Whom each user reports to.
    pub managers: HashMap<UserId, UserId>,
    pub regions: HashMap<AccountId, String>,
}

/// The slice of deals without a value for the dimension (no segment, no team…).
pub const NO_VALUE: &str = "(none)";

/// Deal-size bands: the lower bounds, in corporate minor units, of every band but the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeBands {
    bounds: Vec<i64>,
    currency: Currency,
}

impl SizeBands {
    /// Bands starting at 10k, 50k, 100k and 250k of `currency`.
    pub fn standard(currency: Currency) -> Self {
        Self::from_major(&[10_000, 50_000, 100_000, 250_000], currency).unwrap_or(Self {
            bounds: Vec::new(),
            currency,
        })
    }

    /// Bands from lower bounds in whole units of `currency`: positive, strictly ascending.
    pub fn from_major(bounds: &[i64], currency: Currency) -> Result<Self, String> {
        if bounds.first().is_some_and(|b| *b <= 0) {
            return Err("bounds must be above zero".into());
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err("bounds must rise strictly".into());
        }
        let unit = 10_i64.pow(u32::from(currency.minor_digits()));
        let bounds = bounds
            .iter()
            .map(|b| b.checked_mul(unit))
            .collect::<Option<Vec<_>>>()
            .ok_or("a bound is too large")?;
        Ok(Self { bounds, currency })
    }

    /// The band of an amount in corporate minor units: 0 below the first bound.
    pub fn band(&self, amount: i64) -> usize {
        self.bounds.partition_point(|b| *b <= amount)
    }

    /// A band's name: `under 10k`, `10k–50k`, `250k and over`.
    pub fn label(&self, band: usize) -> String {
        let unit = 10_i64.pow(u32::from(self.currency.minor_digits()));
        let short = |minor: i64| {
            let major = minor / unit;
            match major {
                m if m >= 1_000_000 && m % 100_000 == 0 => format!("{}M", m as f64 / 1e6),
                m if m >= 1_000 && m % 1_000 == 0 => format!("{}k", m / 1_000),
                m => m.to_string(),
            }
        };
        match (
            band.checked_sub(1).map(|b| self.bounds[b]),
            self.bounds.get(band),
        ) {
            (None, Some(upper)) => format!("under {}", short(*upper)),
            (Some(lower), Some(upper)) => format!("{}–{}", short(lower), short(*upper)),
            (Some(lower), None) => format!("{} and over", short(lower)),
            (None, None) => "all sizes".to_owned(),
        }
    }
}

/// How to break a metric down: by these dimensions, in this order.
#[derive(Debug, Clone, Copy)]
pub struct Slicing<'a> {
    pub dimensions: &'a [Dimension],
    pub context: &'a SliceContext,
    pub bands: &'a SizeBands,
}

/// One slice of a metric: the slice's value for each dimension, in the order asked, and the
/// metric over its deals.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Slice<M> {
    pub key: Vec<String>,
    pub value: M,
}

/// Assigns deals to slices. With no dimensions every deal is in the one slice, the whole.
pub(crate) struct Groups<'a> {
    projection: &'a Projection,
    dimensions: &'a [Dimension],
    context: Option<&'a SliceContext>,
    bands: Option<&'a SizeBands>,
    /// For size bands; `None` for the whole.
    rates: Option<&'a ExchangeRates>,
    /// Managers: people someone reports to.
    managers: HashSet<UserId>,
    names: Interner<String>,
    /// Per dimension, the value codes of each raw code (person, label, account, band),
    /// indexed by [`slot`]: raw codes are small and dense, so an array beats a hash.
    values: Vec<Vec<Option<Box<[u32]>>>>,
    index: FxHashMap<Vec<u32>, usize>,
    keys: Vec<Vec<u32>>,
    combination: Vec<u32>,
}

impl<'a> Groups<'a> {
    /// One group: the whole.
    pub(crate) fn whole(projection: &'a Projection) -> Self {
        Self::build(projection, None, None)
    }

    pub(crate) fn new(
        projection: &'a Projection,
        slicing: &Slicing<'a>,
        rates: &'a ExchangeRates,
    ) -> Self {
        Self::build(projection, Some(slicing), Some(rates))
    }

    fn build(
        projection: &'a Projection,
        slicing: Option<&Slicing<'a>>,
        rates: Option<&'a ExchangeRates>,
    ) -> Self {
        let dimensions = slicing.map_or(&[][..], |s| s.dimensions);
        let context = slicing.map(|s| s.context);
        let mut groups = Self {
            projection,
            dimensions,
            context,
            bands: slicing.map(|s| s.bands),
            rates,
            managers: context
                .map(|c| c.managers.values().copied().collect())
                .unwrap_or_default(),
            names: Interner::default(),
            values: vec![Vec::new(); dimensions.len()],
            index: FxHashMap::default(),
            keys: Vec::new(),
            combination: Vec::new(),
        };
        if dimensions.is_empty() {
            groups.index.insert(Vec::new(), 0);
            groups.keys.push(Vec::new());
        }
        groups
    }

    /// Puts the indices of the groups the deal falls in, judged by its state in `span`, into
    /// `out` (cleared first).
    pub(crate) fn of(
        &mut self,
        deal: usize,
        span: usize,
        out: &mut Vec<usize>,
    ) -> Result<(), ConversionError> {
        out.clear();
        if self.dimensions.is_empty() {
            out.push(0);
            return Ok(());
        }
        let mut raws = RawCodes([NONE; Dimension::ALL.len()]);
        let mut single = true;
        self.combination.clear();
        for (d, raw_slot) in raws.0.iter_mut().enumerate().take(self.dimensions.len()) {
            let raw = self.raw(d, deal, span)?;
            let at = slot(raw);
            if self.values[d].get(at).is_none_or(Option::is_none) {
                let values = self.resolve(d, raw).into_boxed_slice();
                if self.values[d].len() <= at {
                    self.values[d].resize(at + 1, None);
                }
                self.values[d][at] = Some(values);
            }
            let values = self.values[d][at].as_deref().unwrap_or_default();
            single &= values.len() == 1;
            self.combination.extend(values.first());
            *raw_slot = raw;
        }
        if single {
            // The common case: one value per dimension, one group.
            out.push(self.group_of_combination());
        } else {
            self.combination.clear();
            self.combine(0, raws, out);
        }
        Ok(())
    }

    /// The group of the values in `combination`, made if new.
    fn group_of_combination(&mut self) -> usize {
        match self.index.get(self.combination.as_slice()) {
            Some(g) => *g,
            None => {
                let g = self.keys.len();
                self.keys.push(self.combination.clone());
                self.index.insert(self.combination.clone(), g);
                g
            }
        }
    }

    /// Every combination of the dimensions' values, from dimension `d` on.
    fn combine(&mut self, d: usize, raws: RawCodes, out: &mut Vec<usize>) {
        if d == self.dimensions.len() {
            let group = self.group_of_combination();
            out.push(group);
            return;
        }
        let at = slot(raws.0[d]);
        let count = self.values[d][at].as_deref().map_or(0, <[u32]>::len);
        for i in 0..count {
            let value = self.values[d][at].as_deref().map_or(NONE, |v| v[i]);
            self.combination.push(value);
            self.combine(d + 1, raws, out);
            self.combination.pop();
        }
    }

    /// The raw code of dimension `d` for a deal in `span`.
    fn raw(&self, d: usize, deal: usize, span: usize) -> Result<u32, ConversionError> {
        let p = self.projection;
        Ok(match self.dimensions[d] {
            Dimension::Owner | Dimension::Manager | Dimension::Team => p.spans.owner[span],
            Dimension::Segment => p.deals.segment[deal],
            Dimension::Source => p.deals.source[deal],
            Dimension::Competitor => p.deals.competitor[deal],
            Dimension::Region => p.deals.account[deal],
            Dimension::SizeBand => match (p.spans.currency[span], self.bands, self.rates) {
                (NONE_U16, _, _) | (_, None, _) | (_, _, None) => NONE,
                (_, Some(bands), Some(rates)) => {
                    let on = NaiveDate::from_num_days_from_ce_opt(p.spans.close_date[span])
                        .unwrap_or_default();
                    let amount = match p.currency(span) {
                        Some(currency) => {
                            rates.convert(Money::new(p.spans.amount[span], currency), on)?
                        }
                        None => 0,
                    };
                    u32::try_from(bands.band(amount)).unwrap_or(NONE)
                }
            },
        })
    }

    /// The value codes of a raw code: one value, or for the manager roll-up one per manager
    /// above the owner (and the owner, if a manager); [`NO_VALUE`] when there is none.
    fn resolve(&mut self, d: usize, raw: u32) -> Vec<u32> {
        let p = self.projection;
        let context = self.context;
        let name_of = |user: &UserId| {
            context
                .and_then(|c| c.user_names.get(user).cloned())
                .unwrap_or_else(|| user.to_string())
        };
        let label = |code: u32| (code != NONE).then(|| p.labels.value(code).to_string());
        let names: Vec<String> = match self.dimensions[d] {
            Dimension::Owner => vec![name_of(p.people.value(raw))],
            Dimension::Team => context
                .and_then(|c| c.teams.get(p.people.value(raw)).cloned())
                .into_iter()
                .collect(),
            Dimension::Manager => {
                let owner = *p.people.value(raw);
                let mut chain = Vec::new();
                if self.managers.contains(&owner) {
                    chain.push(owner);
                }
                let mut at = owner;
                while let Some(manager) = context.and_then(|c| c.managers.get(&at)) {
                    // A cycle in the links must not loop for ever.
                    if chain.contains(manager) || *manager == owner {
                        break;
                    }
                    chain.push(*manager);
                    at = *manager;
                }
                chain.iter().map(name_of).collect()
            }
            Dimension::Segment | Dimension::Source | Dimension::Competitor => {
                label(raw).into_iter().collect()
            }
            Dimension::Region => context
                .and_then(|c| c.regions.get(p.accounts.value(raw)).cloned())
                .into_iter()
                .collect(),
            Dimension::SizeBand => match (raw, self.bands) {
                (NONE, _) | (_, None) => Vec::new(),
                (band, Some(bands)) => vec![bands.label(band as usize)],
            },
        };
        if names.is_empty() {
            return vec![self.names.code(&NO_VALUE.to_owned())];
        }
        names.iter().map(|n| self.names.code(n)).collect()
    }

    /// Pairs each group's key with its value, ordered by key.
    pub(crate) fn into_slices<M>(self, values: Vec<M>) -> Vec<Slice<M>> {
        let mut slices: Vec<Slice<M>> = self
            .keys
            .iter()
            .zip(values)
            .map(|(key, value)| Slice {
                key: key.iter().map(|c| self.names.value(*c).clone()).collect(),
                value,
            })
            .collect();
        slices.sort_by(|a, b| a.key.cmp(&b.key));
        slices
    }

    /// Number of groups seen so far.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// The raw code of each dimension for one deal; at most [`Dimension::ALL`]`.len()` dimensions
/// are sliced by (callers refuse repeated dimensions).
#[derive(Clone, Copy)]
struct RawCodes([u32; Dimension::ALL.len()]);

/// The one value of a metric computed over the whole: no slicing, so no amount was converted
/// to find a slice and nothing could fail.
pub(crate) fn whole<M: Default>(values: Result<Vec<M>, ConversionError>) -> M {
    values
        .ok()
        .and_then(|v| v.into_iter().next())
        .unwrap_or_default()
}

/// Where a raw code's values sit: `NONE` first, then the codes in order.
fn slot(raw: u32) -> usize {
    raw.wrapping_add(1) as usize
}

/// Grows `values` so that every group has a slot.
pub(crate) fn fit<M: Default>(values: &mut Vec<M>, groups: &Groups) {
    values.resize_with(groups.len().max(values.len()), M::default);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn size_bands_name_and_place_amounts() {
        let bands = SizeBands::standard(Currency::USD);
        let names: Vec<String> = (0..5).map(|b| bands.label(b)).collect();
        assert_eq!(
            names,
            [
                "under 10k",
                "10k–50k",
                "50k–100k",
                "100k–250k",
                "250k and over"
            ]
        );
        // $9,999.99 is under 10k; $10,000.00 starts the next band; a bound is inclusive.
        assert_eq!(bands.band(999_999), 0);
        assert_eq!(bands.band(1_000_000), 1);
        assert_eq!(bands.band(25_000_000), 4);
        assert_eq!(
            SizeBands::from_major(&[5_000, 5_000], Currency::USD).unwrap_err(),
            "bounds must rise strictly"
        );
        assert_eq!(
            SizeBands::from_major(&[0], Currency::USD).unwrap_err(),
            "bounds must be above zero"
        );
        let millions = SizeBands::from_major(&[1_000_000, 2_500_000], Currency::USD).unwrap();
        assert_eq!(millions.label(1), "1M–2.5M");
    }

    #[test]
    fn dimensions_round_trip_by_name() {
        for dimension in Dimension::ALL {
            assert_eq!(Dimension::parse(dimension.as_str()), Some(dimension));
        }
        assert_eq!(Dimension::parse("size_band"), Some(Dimension::SizeBand));
        assert_eq!(Dimension::parse("quarter"), None);
    }
}
