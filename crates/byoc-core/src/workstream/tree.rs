//! Tournament trees (max): node `i` of a tree of `width` leaves at `i`, its children at
//! `2i` and `2i + 1`, the leaves from `width`; the root at 1 holds the largest key.

/// Sets a leaf and updates its ancestors (each the larger of the value coming up and its
/// sibling; stopping where nothing changes); returns the new root. A slice too short for
/// the tree leaves it unchanged and returns 0.
#[inline]
pub(crate) fn set(tree: &mut [u64], width: usize, leaf: usize, key: u64) -> u64 {
    let mut node = width + leaf;
    let Some(slot) = tree.get_mut(node) else {
        return 0;
    };
    *slot = key;
    let mut up = key;
    while node > 1 {
        let sibling = tree.get(node ^ 1).copied().unwrap_or(0);
        node /= 2;
        let best = up.max(sibling);
        let Some(slot) = tree.get_mut(node) else {
            return 0;
        };
        if *slot == best {
            // Unchanged from here up.
            return tree.get(1).copied().unwrap_or(0);
        }
        *slot = best;
        up = best;
    }
    up
}

/// A leaf's key.
#[inline]
pub(crate) fn leaf(tree: &[u64], width: usize, leaf: usize) -> u64 {
    tree.get(width + leaf).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_follows_updates() {
        let width = 4;
        let mut tree = vec![0u64; 2 * width];
        assert_eq!(set(&mut tree, width, 2, 7), 7);
        assert_eq!(set(&mut tree, width, 0, 9), 9);
        assert_eq!(set(&mut tree, width, 0, 1), 7);
        assert_eq!(set(&mut tree, width, 2, 0), 1);
        assert_eq!(set(&mut tree, width, 3, 0), 1);
        assert_eq!(leaf(&tree, width, 0), 1);
        assert_eq!(set(&mut tree[..3], width, 3, 5), 0);
    }
}
