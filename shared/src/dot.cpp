#include "stepgrad/shared/dot.hpp"

namespace stepgrad {

namespace {
// Marks a label that record() already escaped, so node() leaves it alone.
constexpr std::string_view kRecordPrefix = "\x01record:";
}  // namespace

std::string DotWriter::escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '"': case '\\': case '{': case '}': case '|': case '<': case '>':
                out += '\\';
                out += c;
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string DotWriter::record(const std::vector<std::string>& fields) {
    std::string label(kRecordPrefix);
    label += "{ ";
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) label += " | ";
        label += escape(fields[i]);
    }
    label += " }";
    return label;
}

void DotWriter::node(const std::string& id, const std::string& label,
                     const std::string& attributes) {
    std::string text = label.starts_with(kRecordPrefix) ? label.substr(kRecordPrefix.size())
                                                        : escape(label);
    std::string line = "  \"" + escape(id) + "\" [label=\"" + text + "\"";
    if (!attributes.empty()) line += ", " + attributes;
    line += "];";
    lines_.push_back(std::move(line));
}

void DotWriter::edge(const std::string& from, const std::string& to) {
    lines_.push_back("  \"" + escape(from) + "\" -> \"" + escape(to) + "\";");
}

std::string DotWriter::str() const {
    std::string out = "digraph G {\n  rankdir=" + rankdir_ + ";\n";
    for (const auto& line : lines_) out += line + "\n";
    out += "}\n";
    return out;
}

}  // namespace stepgrad
