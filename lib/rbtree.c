/* Red-black tree rebalancing, written from the usual invariants: every node
 * is red or black, the root is black, a red node has no red child, and every
 * path from a node down to a NULL child crosses the same number of black
 * nodes. NULL children count as black. */
#include "bulkhead/rbtree.h"

/* The colour shares a word with the parent pointer. */
_Static_assert(_Alignof(struct rb_node) >= 2, "rb_node colour bit");

static inline bool is_red(const struct rb_node *n)
{
	return n && (n->parent_color & 1) == RB_RED;
}

static inline bool is_black(const struct rb_node *n)
{
	return !is_red(n);
}

static inline unsigned color_of(const struct rb_node *n)
{
	return (unsigned)(n->parent_color & 1);
}

static inline void set_parent(struct rb_node *n, struct rb_node *p)
{
	n->parent_color = (uintptr_t)p | (n->parent_color & 1);
}

static inline void set_color(struct rb_node *n, unsigned c)
{
	n->parent_color = (n->parent_color & ~(uintptr_t)1) | c;
}

/* Point whatever held old (parent's child link, or the root) at new. */
static inline void replace_child(struct rb_root *root, struct rb_node *parent,
				 struct rb_node *old, struct rb_node *new)
{
	if (!parent)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
}

/* x's right child y takes x's place; x becomes y's left child. */
static void rotate_left(struct rb_root *root, struct rb_node *x)
{
	struct rb_node *y = x->right, *p = rb_parent(x);

	x->right = y->left;
	if (y->left)
		set_parent(y->left, x);
	y->left = x;
	set_parent(y, p);
	replace_child(root, p, x, y);
	set_parent(x, y);
}

static void rotate_right(struct rb_root *root, struct rb_node *x)
{
	struct rb_node *y = x->left, *p = rb_parent(x);

	x->left = y->right;
	if (y->right)
		set_parent(y->right, x);
	y->right = x;
	set_parent(y, p);
	replace_child(root, p, x, y);
	set_parent(x, y);
}

/* n is a red leaf; the only invariant that can be broken is "no red node with
 * a red child", between n and its parent. Each step either fixes it with at
 * most two rotations, or recolours and moves the problem two levels up. */
void rb_insert_color(struct rb_node *n, struct rb_root *root)
{
	struct rb_node *p;

	while ((p = rb_parent(n)) && is_red(p)) {
		/* A red node is never the root, so the grandparent exists. */
		struct rb_node *g = rb_parent(p);

		if (p == g->left) {
			struct rb_node *u = g->right;

			if (is_red(u)) {
				set_color(p, RB_BLACK);
				set_color(u, RB_BLACK);
				set_color(g, RB_RED);
				n = g;
				continue;
			}
			if (n == p->right) {
				rotate_left(root, p);
				n = p;
				p = rb_parent(n);
			}
			set_color(p, RB_BLACK);
			set_color(g, RB_RED);
			rotate_right(root, g);
			break;
		} else {
			struct rb_node *u = g->left;

			if (is_red(u)) {
				set_color(p, RB_BLACK);
				set_color(u, RB_BLACK);
				set_color(g, RB_RED);
				n = g;
				continue;
			}
			if (n == p->left) {
				rotate_right(root, p);
				n = p;
				p = rb_parent(n);
			}
			set_color(p, RB_BLACK);
			set_color(g, RB_RED);
			rotate_left(root, g);
			break;
		}
	}
	set_color(root->node, RB_BLACK);
}

/* A black node was removed from under parent, on the side where x (possibly
 * NULL) now is: paths through x are one black short. x is passed with its
 * parent because a NULL x cannot say where it sits. Because the paths
 * through the sibling were one black longer than x's, the sibling is never
 * NULL here. */
static void erase_fixup(struct rb_node *x, struct rb_node *parent,
			struct rb_root *root)
{
	while (x != root->node && is_black(x)) {
		if (x == parent->left) {
			struct rb_node *w = parent->right;

			if (is_red(w)) {
				set_color(w, RB_BLACK);
				set_color(parent, RB_RED);
				rotate_left(root, parent);
				w = parent->right;
			}
			if (is_black(w->left) && is_black(w->right)) {
				set_color(w, RB_RED);
				x = parent;
				parent = rb_parent(x);
				continue;
			}
			if (is_black(w->right)) {
				set_color(w->left, RB_BLACK);
				set_color(w, RB_RED);
				rotate_right(root, w);
				w = parent->right;
			}
			set_color(w, color_of(parent));
			set_color(parent, RB_BLACK);
			set_color(w->right, RB_BLACK);
			rotate_left(root, parent);
			x = root->node;
			break;
		} else {
			struct rb_node *w = parent->left;

			if (is_red(w)) {
				set_color(w, RB_BLACK);
				set_color(parent, RB_RED);
				rotate_right(root, parent);
				w = parent->left;
			}
			if (is_black(w->left) && is_black(w->right)) {
				set_color(w, RB_RED);
				x = parent;
				parent = rb_parent(x);
				continue;
			}
			if (is_black(w->left)) {
				set_color(w->right, RB_BLACK);
				set_color(w, RB_RED);
				rotate_left(root, w);
				w = parent->left;
			}
			set_color(w, color_of(parent));
			set_color(parent, RB_BLACK);
			set_color(w->left, RB_BLACK);
			rotate_right(root, parent);
			x = root->node;
			break;
		}
	}
	if (x)
		set_color(x, RB_BLACK);
}

void rb_erase(struct rb_node *n, struct rb_root *root)
{
	struct rb_node *child, *parent;
	unsigned removed;

	if (!n->left || !n->right) {
		/* At most one child: it moves up into n's place. */
		child = n->left ? n->left : n->right;
		parent = rb_parent(n);
		removed = color_of(n);
		if (child)
			set_parent(child, parent);
		replace_child(root, parent, n, child);
	} else {
		/* Two children: n's successor s (leftmost of the right subtree,
		 * so it has no left child) is unhooked from where it was and
		 * takes n's place and colour, so the colour that disappears
		 * from the tree is s's, at s's old position. */
		struct rb_node *s = n->right;

		while (s->left)
			s = s->left;
		removed = color_of(s);
		child = s->right;
		if (rb_parent(s) == n) {
			parent = s;
		} else {
			parent = rb_parent(s);
			parent->left = child;
			if (child)
				set_parent(child, parent);
			s->right = n->right;
			set_parent(n->right, s);
		}
		replace_child(root, rb_parent(n), n, s);
		s->parent_color = n->parent_color;
		s->left = n->left;
		set_parent(n->left, s);
	}
	if (removed == RB_BLACK)
		erase_fixup(child, parent, root);
}

struct rb_node *rb_first(const struct rb_root *r)
{
	struct rb_node *n = r->node;

	if (!n)
		return NULL;
	while (n->left)
		n = n->left;
	return n;
}

struct rb_node *rb_last(const struct rb_root *r)
{
	struct rb_node *n = r->node;

	if (!n)
		return NULL;
	while (n->right)
		n = n->right;
	return n;
}

/* Over a whole walk every edge is crossed twice, hence amortised O(1). */
struct rb_node *rb_next(const struct rb_node *n)
{
	struct rb_node *p;

	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct rb_node *)n;
	}
	while ((p = rb_parent(n)) && n == p->right)
		n = p;
	return p;
}

struct rb_node *rb_prev(const struct rb_node *n)
{
	struct rb_node *p;

	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct rb_node *)n;
	}
	while ((p = rb_parent(n)) && n == p->left)
		n = p;
	return p;
}
