//! Small bit sets over the closed vocabularies (care types, symptoms, care modes), so a
//! provider's summary is a few machine words and a filter is one AND.

use carematch_domain::{CareMode, CareType, Symptom};

macro_rules! bit_set {
    ($(#[$meta:meta])* $name:ident, $item:ty, $bits:ty) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
        )]
        pub struct $name($bits);

        impl $name {
            pub const EMPTY: Self = Self(0);

            pub fn contains(self, item: $item) -> bool {
                self.0 & (1 << item as u32) != 0
            }

            pub fn insert(&mut self, item: $item) {
                self.0 |= 1 << item as u32;
            }

            pub fn intersection(self, other: Self) -> Self {
                Self(self.0 & other.0)
            }

            pub fn union(self, other: Self) -> Self {
                Self(self.0 | other.0)
            }

            pub fn is_empty(self) -> bool {
                self.0 == 0
            }

            pub fn len(self) -> usize {
                self.0.count_ones() as usize
            }

            /// Members in the vocabulary's declaration order.
            pub fn iter(self) -> impl Iterator<Item = $item> {
                <$item>::ALL.iter().copied().filter(move |item| self.contains(*item))
            }
        }

        impl FromIterator<$item> for $name {
            fn from_iter<I: IntoIterator<Item = $item>>(items: I) -> Self {
                let mut set = Self::EMPTY;
                for item in items {
                    set.insert(item);
                }
                set
            }
        }
    };
}

bit_set!(
    /// A set of care types (7 of them fit in a byte).
    CareTypeSet, CareType, u8
);
bit_set!(
    /// A set of symptoms (18 of them fit in 32 bits).
    SymptomSet, Symptom, u32
);
bit_set!(
    /// A set of care modes.
    CareModeSet, CareMode, u8
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vocabulary_fits_its_bit_set() {
        assert!(CareType::ALL.len() <= 8);
        assert!(Symptom::ALL.len() <= 32);
        assert!(CareMode::ALL.len() <= 8);
        let all: SymptomSet = Symptom::ALL.iter().copied().collect();
        assert_eq!(all.len(), Symptom::ALL.len());
        assert_eq!(all.iter().collect::<Vec<_>>(), Symptom::ALL.to_vec());
    }

    #[test]
    fn set_operations_behave_like_sets() {
        let mut first = CareTypeSet::EMPTY;
        first.insert(CareType::Doula);
        first.insert(CareType::SupportGroup);
        let second: CareTypeSet = [CareType::Doula, CareType::PostnatalMassage]
            .into_iter()
            .collect();
        assert_eq!(
            first.intersection(second).iter().collect::<Vec<_>>(),
            vec![CareType::Doula]
        );
        assert_eq!(first.union(second).len(), 3);
        assert!(!first.contains(CareType::PostnatalMassage));
        assert!(CareTypeSet::EMPTY.is_empty());
    }
}
