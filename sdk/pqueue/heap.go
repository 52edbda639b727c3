package pqueue

import (
	"container/heap"
	"time"
)

// node is one queued item. It stands in both of the queue's heaps at once.
type node[T any] struct {
	item     T
	priority int
	seq      uint64
	enqueued time.Time
	// idx is the node's index in each heap, by side; -1 once removed from it.
	idx [2]int
}

// side names one of a queue's two heaps and the order it keeps.
type side int

const (
	// popSide orders by priority descending, then seq ascending (FIFO): its root
	// is the item Pop returns next.
	popSide side = iota
	// evictSide keeps the reverse order: its root is the item Pop would return
	// last, which is the one eviction removes.
	evictSide
)

// nodeHeap is a heap.Interface over nodes in its side's order. It keeps each
// node's idx[side] up to date, so that a node can be removed from the other
// heap in O(log n).
type nodeHeap[T any] struct {
	nodes []*node[T]
	side  side
}

// root returns the node at the heap's root; the heap must not be empty.
func (h *nodeHeap[T]) root() *node[T] { return h.nodes[0] }

// remove takes n, which must stand in h, out of h.
func (h *nodeHeap[T]) remove(n *node[T]) { heap.Remove(h, n.idx[h.side]) }

func (h *nodeHeap[T]) Len() int { return len(h.nodes) }

func (h *nodeHeap[T]) Less(i, j int) bool {
	a, b := h.nodes[i], h.nodes[j]
	if h.side == evictSide {
		a, b = b, a
	}
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	return a.seq < b.seq
}

func (h *nodeHeap[T]) Swap(i, j int) {
	h.nodes[i], h.nodes[j] = h.nodes[j], h.nodes[i]
	h.nodes[i].idx[h.side] = i
	h.nodes[j].idx[h.side] = j
}

func (h *nodeHeap[T]) Push(x any) {
	n := x.(*node[T])
	n.idx[h.side] = len(h.nodes)
	h.nodes = append(h.nodes, n)
}

func (h *nodeHeap[T]) Pop() any {
	last := len(h.nodes) - 1
	n := h.nodes[last]
	h.nodes[last] = nil
	h.nodes = h.nodes[:last]
	n.idx[h.side] = -1
	return n
}
