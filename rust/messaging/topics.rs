//! Topic names and pyrt's exact-topic subscriptions.
//!
//! ZeroMQ filters by byte prefix: a SUB socket subscribed to `market.BTC/USD`
//! also receives `market.BTC/USDT`. pyrt subscribes the socket by prefix and
//! then keeps only the topics asked for: a topic is matched exactly unless it
//! ends in `.` or `*`, which makes it a prefix (`market.` and `market.*` both
//! mean every market topic; `*` alone means every topic).

use super::Kind;
use crate::error::{Error, Result};

pub const FILLS: &str = "fills";
pub const POSITIONS: &str = "positions";
pub const SIGNALS: &str = "signals";
pub const ORDERS: &str = "orders";
pub const MARKET_PREFIX: &str = "market.";

/// The topic a tick is published under: `market.<symbol>`.
pub fn tick_topic(symbol: &str) -> String {
    format!("{MARKET_PREFIX}{symbol}")
}

/// The kind of message a topic carries, or None for a topic pyrt does not know.
pub fn kind_of_topic(topic: &[u8]) -> Option<Kind> {
    match topic {
        b"fills" => Some(Kind::Fill),
        b"positions" => Some(Kind::Position),
        b"signals" => Some(Kind::Signal),
        b"orders" => Some(Kind::Order),
        t if t.len() > MARKET_PREFIX.len() && t.starts_with(MARKET_PREFIX.as_bytes()) => Some(Kind::MarketData),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
}

/// The set of topics a subscriber delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFilter {
    patterns: Vec<Pattern>,
}

impl TopicFilter {
    /// Parses the topics a subscriber asked for (at least one, none empty).
    pub fn new<S: AsRef<str>>(topics: &[S]) -> Result<TopicFilter> {
        if topics.is_empty() {
            return Err(Error::invalid("topics", "must name at least one topic (\"*\" means all)"));
        }
        let mut patterns = Vec::with_capacity(topics.len());
        for topic in topics {
            let topic = topic.as_ref();
            if topic.is_empty() {
                return Err(Error::invalid("topics", "a topic must not be empty (\"*\" means all)"));
            }
            // libzmq keeps subscriptions in a trie it walks recursively, one
            // level per byte: a topic of a few hundred kB overflows the stack
            // when the socket closes.
            if topic.len() > super::MAX_NAME_LEN {
                return Err(Error::invalid(
                    "topics",
                    format!("a topic of {} bytes is longer than the limit of {}", topic.len(), super::MAX_NAME_LEN),
                ));
            }
            if topic.as_bytes().contains(&0) {
                return Err(Error::invalid("topics", "a topic must not contain a NUL character"));
            }
            let pattern = if let Some(prefix) = topic.strip_suffix('*') {
                Pattern::Prefix(prefix.as_bytes().to_vec())
            } else if topic.ends_with('.') {
                Pattern::Prefix(topic.as_bytes().to_vec())
            } else {
                Pattern::Exact(topic.as_bytes().to_vec())
            };
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        Ok(TopicFilter { patterns })
    }

    /// The byte prefixes to give ZeroMQ (it filters at the publisher).
    pub fn socket_prefixes(&self) -> impl Iterator<Item = &[u8]> {
        self.patterns.iter().map(|p| match p {
            Pattern::Exact(t) | Pattern::Prefix(t) => t.as_slice(),
        })
    }

    /// True when `topic` is one this subscriber asked for.
    pub fn matches(&self, topic: &[u8]) -> bool {
        self.patterns.iter().any(|p| match p {
            Pattern::Exact(t) => topic == t.as_slice(),
            Pattern::Prefix(t) => topic.starts_with(t),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_topics_do_not_match_longer_ones() {
        let f = TopicFilter::new(&["market.BTC/USD", "fills"]).unwrap();
        assert!(f.matches(b"market.BTC/USD"));
        assert!(!f.matches(b"market.BTC/USDT"));
        assert!(!f.matches(b"market.BTC/US"));
        assert!(f.matches(b"fills"));
        assert!(!f.matches(b"fillsX"));
    }

    #[test]
    fn a_trailing_dot_or_star_is_a_prefix() {
        let f = TopicFilter::new(&["market."]).unwrap();
        assert!(f.matches(b"market.BTC/USD") && f.matches(b"market.BTC/USDT"));
        assert!(!f.matches(b"fills"));
        let g = TopicFilter::new(&["market.BTC*"]).unwrap();
        assert!(g.matches(b"market.BTC/USD") && g.matches(b"market.BTCUSD"));
        assert!(!g.matches(b"market.ETH"));
        let all = TopicFilter::new(&["*"]).unwrap();
        assert!(all.matches(b"anything"));
        assert_eq!(all.socket_prefixes().collect::<Vec<_>>(), vec![b"" as &[u8]]);
    }

    #[test]
    fn empty_topic_lists_and_topics_are_refused() {
        let none: [&str; 0] = [];
        assert!(TopicFilter::new(&none).unwrap_err().message.starts_with("topics:"));
        assert!(TopicFilter::new(&["fills", ""]).unwrap_err().message.starts_with("topics:"));
    }

    #[test]
    fn topics_map_to_kinds() {
        assert_eq!(kind_of_topic(b"fills"), Some(Kind::Fill));
        assert_eq!(kind_of_topic(b"positions"), Some(Kind::Position));
        assert_eq!(kind_of_topic(b"signals"), Some(Kind::Signal));
        assert_eq!(kind_of_topic(b"orders"), Some(Kind::Order));
        assert_eq!(kind_of_topic(b"market.ETH/USD"), Some(Kind::MarketData));
        assert_eq!(kind_of_topic(b"market."), None);
        assert_eq!(kind_of_topic(b"news"), None);
        assert_eq!(tick_topic("ETH/USD"), "market.ETH/USD");
    }
}
