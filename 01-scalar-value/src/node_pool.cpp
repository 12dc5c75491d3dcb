// Allocation and release of graph nodes.
//
// A training step builds tens of thousands of nodes and drops them all a moment later, so the
// nodes come from a per-thread free list rather than from new/delete each time, and a node is
// freed without recursion: dropping the last handle to a chain of a million nodes would
// otherwise recurse a million destructors deep and overflow the stack.
//
// Threads: everything here is thread_local, so threads building graphs at once share nothing
// and need no lock. A node released on another thread than the one that made it (a graph
// handed over after a join) goes to the releasing thread's free list, which is fine, but is
// then counted by live_nodes() as made on one thread and freed on the other.
#include <vector>

#include "stepgrad/scalar/value.hpp"

namespace stepgrad::scalar::detail {

namespace {

// Spare nodes kept per thread; beyond this many, freed nodes go back to the heap.
constexpr std::size_t kMaxSpareNodes = 1 << 18;

// A thread's free list. Its destructor returns the spare nodes to the heap at thread exit,
// so LeakSanitizer sees nothing left behind.
struct FreeList {
    std::vector<Node*> spare;
    ~FreeList() {
        for (Node* node : spare) delete node;
    }
};

thread_local std::size_t live_node_count = 0;

FreeList& free_list() {
    thread_local FreeList list;
    return list;
}

void recycle(Node* node) {
    --live_node_count;
    delete node->label;
    auto& spare = free_list().spare;
    if (spare.size() < kMaxSpareNodes) {
        spare.push_back(node);
    } else {
        delete node;
    }
}

}  // namespace

Node* new_node(double data) {
    auto& spare = free_list().spare;
    Node* node;
    if (spare.empty()) {
        node = new Node;
    } else {
        node = spare.back();
        spare.pop_back();
        *node = Node{};
    }
    node->data = data;
    ++live_node_count;
    return node;
}

std::size_t live_nodes() { return live_node_count; }

void release(Node* node) {
    if (--node->references > 0) return;
    // The node is dead: each of its parents loses one reference. Instead of recursing into
    // parents that die too, keep a worklist of dead nodes.
    thread_local std::vector<Node*> dead;
    const std::size_t bottom = dead.size();  // release() is not re-entered, but stay safe
    dead.push_back(node);
    while (dead.size() > bottom) {
        Node* current = dead.back();
        dead.pop_back();
        for (Node* parent : current->parents) {
            if (parent != nullptr && --parent->references == 0) dead.push_back(parent);
        }
        recycle(current);
    }
}

}  // namespace stepgrad::scalar::detail
