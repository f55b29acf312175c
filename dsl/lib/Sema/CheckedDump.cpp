//===- CheckedDump.cpp - Printing the checked program ---------------------===//
//
// `kdc --emit=checked`: one readable, stable line per element, shapes as
// `[64, 7, 7]`, so tests can FileCheck inferred shapes.
//
//===----------------------------------------------------------------------===//
#include "kd/dsl/Checked.h"
#include "kd/dsl/Sema.h"

namespace kd {

namespace {
std::string attrs(const Attributes &a) {
  if (a.empty())
    return "";
  std::string s = " {";
  for (size_t i = 0; i < a.size(); ++i)
    s += (i ? ", " : "") + a[i].first + ": " + a[i].second.str();
  return s + "}";
}

std::string call(const CheckedCall &c) {
  std::string s = c.name + attrs(c.attrs);
  for (const CheckedCall &n : c.nested)
    s += " then " + call(n);
  return s;
}

std::string splitName(const CheckedProgram &p, const SplitRef &r) {
  if (!r.valid())
    return "?";
  return p.data[size_t(r.data)].name + "." + r.split;
}

const char *valueKind(NamedValue::Kind k) {
  switch (k) {
  case NamedValue::Kind::Input: return "input";
  case NamedValue::Kind::Value: return "value";
  case NamedValue::Kind::Block: return "block";
  case NamedValue::Kind::Exit: return "exit";
  case NamedValue::Kind::Output: return "output";
  }
  return "value";
}

void dumpLoss(const CheckedProgram &p, const CheckedLoss &loss, const std::string &indent, std::ostream &os) {
  for (size_t i = 0; i < loss.features.size(); ++i) {
    const FeatureNode &f = loss.features[i];
    os << indent << "feature #" << i << " = ";
    switch (f.kind) {
    case FeatureNode::Kind::Tap:
      os << "tap " << p.instances[size_t(f.instance)].name << "." << f.tap << " (%" << f.node << ")";
      if (f.hybrid)
        os << " through the graft hybrid";
      break;
    case FeatureNode::Kind::Label: os << "label"; break;
    case FeatureNode::Kind::Helper:
    case FeatureNode::Kind::Value: {
      os << (f.kind == FeatureNode::Kind::Helper ? "helper " : "value ") << f.op << "(";
      for (size_t j = 0; j < f.inputs.size(); ++j)
        os << (j ? ", " : "") << "#" << f.inputs[j];
      os << ")" << attrs(f.attrs);
      break;
    }
    }
    if (f.kind != FeatureNode::Kind::Label)
      os << " : " << formatShape(f.shape);
    for (const auto &l : f.learnable)
      os << " " << l.first << formatShape(l.second);
    os << "\n";
  }
  for (size_t i = 0; i < loss.nodes.size(); ++i) {
    const LossNode &n = loss.nodes[i];
    os << indent << "loss $" << i << " = ";
    switch (n.kind) {
    case LossNode::Kind::Call: {
      os << n.op << "(";
      for (size_t j = 0; j < n.features.size(); ++j)
        os << (j ? ", " : "") << "#" << n.features[j];
      os << ")" << attrs(n.attrs);
      break;
    }
    case LossNode::Kind::Add: os << "$" << n.operands[0] << " + $" << n.operands[1]; break;
    case LossNode::Kind::Sub: os << "$" << n.operands[0] << " - $" << n.operands[1]; break;
    case LossNode::Kind::Scale: os << ConstValue::ofFloat(n.constant).str() << " * $" << n.operands[0]; break;
    case LossNode::Kind::Div: os << "$" << n.operands[0] << " / " << ConstValue::ofFloat(n.constant).str(); break;
    case LossNode::Kind::Constant: os << ConstValue::ofFloat(n.constant).str(); break;
    }
    os << "\n";
  }
  if (loss.root >= 0)
    os << indent << "loss = $" << loss.root << (loss.usesLabel ? " (uses labels)" : "") << "\n";
  if (loss.feature >= 0)
    os << indent << "prediction = #" << loss.feature << "\n";
}

void dumpTrain(const CheckedProgram &p, const TrainSpec &t, const std::string &indent, std::ostream &os) {
  auto names = [&](const std::vector<int> &ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i)
      s += (i ? ", " : "") + p.instances[size_t(ids[i])].name;
    return s + "]";
  };
  os << indent << "trains " << names(t.trained) << " frozen " << names(t.frozen) << " on " << splitName(p, t.split)
     << " epochs " << t.epochs << " batch " << t.batch;
  if (t.steps)
    os << " steps " << t.steps;
  os << "\n";
  if (t.optimizer)
    os << indent << "optimizer " << call(*t.optimizer) << "\n";
  if (t.schedule)
    os << indent << "schedule " << call(*t.schedule) << "\n";
  for (const ParamGroup &g : t.groups)
    os << indent << "group " << g.target << attrs(g.settings) << "\n";
  for (const std::string &f : t.frozenParts)
    os << indent << "freeze " << f << "\n";
  if (t.graft) {
    const GraftSpec &g = *t.graft;
    os << indent << "graft " << p.instances[size_t(g.student)].name << " into " << p.instances[size_t(g.teacher)].name
       << " as " << g.hybridName << " mode " << g.mode << "\n";
    for (const GraftSpec::Block &b : g.blocks)
      os << indent << "  block " << b.name << ": student " << formatShape(b.studentIn) << " -> "
         << formatShape(b.studentOut) << ", teacher " << formatShape(b.teacherIn) << " -> "
         << formatShape(b.teacherOut) << (b.adapterBefore ? ", adapter before" : "")
         << (b.adapterAfter ? ", adapter after" : "") << "\n";
  }
  dumpLoss(p, t.loss, indent, os);
}
} // namespace

void dumpChecked(const CheckedProgram &p, const SourceManager &sm, std::ostream &os) {
  (void)sm;
  for (const auto &[name, value] : p.constants)
    os << "let " << name << " = " << value.str() << "\n";
  for (const CheckedData &d : p.data) {
    os << "data " << d.name << " = " << d.sourceKind << "(\"" << d.path << "\") " << d.imageKind << " "
       << formatShape(d.imageShape) << " classes " << d.numClasses << "\n";
    if (!d.mean.empty()) {
      os << "  norm mean [";
      for (size_t i = 0; i < d.mean.size(); ++i)
        os << (i ? ", " : "") << ConstValue::ofFloat(d.mean[i]).str();
      os << "] std [";
      for (size_t i = 0; i < d.std.size(); ++i)
        os << (i ? ", " : "") << ConstValue::ofFloat(d.std[i]).str();
      os << "]\n";
    }
    for (const CheckedSplit &s : d.splits) {
      os << "  split " << s.name << " = ";
      switch (s.source) {
      case CheckedSplit::Source::File: os << "file \"" << s.file << "\""; break;
      case CheckedSplit::Source::Slice:
        os << s.parent << "[" << (s.lo ? std::to_string(*s.lo) : "") << ".." << (s.hi ? std::to_string(*s.hi) : "")
           << "]";
        break;
      case CheckedSplit::Source::Shots: os << s.parent << ".shots(" << s.shots << ", seed: " << s.seed << ")"; break;
      case CheckedSplit::Source::External: os << s.externalKind << "(\"" << s.file << "\")"; break;
      case CheckedSplit::Source::Union:
        for (size_t i = 0; i < s.parts.size(); ++i)
          os << (i ? " + " : "") << s.parts[i];
        break;
      }
      for (size_t i = 0; i < s.augment.size(); ++i)
        os << (i ? ", " : " augment [") << call(s.augment[i]) << (i + 1 == s.augment.size() ? "]" : "");
      if (s.unlabeled)
        os << " unlabeled";
      os << "\n";
    }
  }
  for (const ModelInstance &m : p.instances) {
    os << "instance " << m.name << " = " << m.modelName << attrs(m.params) << " input " << formatShape(m.inputShape)
       << " params " << m.parameterCount() << "\n";
    for (const LayerNode &n : m.nodes) {
      os << "  %" << n.id << " = " << n.op << "(";
      for (size_t i = 0; i < n.inputs.size(); ++i)
        os << (i ? ", " : "") << "%" << n.inputs[i];
      os << ")" << attrs(n.attrs) << " : " << formatShape(n.shape);
      if (!n.tapName.empty())
        os << " name=" << n.tapName;
      if (!n.block.empty())
        os << " block=" << n.block;
      if (n.isExit)
        os << " exit";
      if (!n.scope.empty())
        os << " scope=" << n.scope;
      os << "\n";
    }
    for (const NamedValue &v : m.values)
      os << "  " << valueKind(v.kind) << " " << v.name << " = %" << v.node << " : "
         << formatShape(m.nodes[size_t(v.node)].shape) << "\n";
  }
  for (const CheckedModelUse &u : p.uses) {
    static const char *sources[] = {"trained", "loaded", "ensemble", "untrained"};
    os << (u.isTeacher ? "teacher " : "student ") << u.name << " " << sources[int(u.source)];
    if (u.instance >= 0)
      os << " instance " << p.instances[size_t(u.instance)].name;
    if (u.transform)
      os << " transform " << call(*u.transform);
    if (!u.loadPath.empty())
      os << " load \"" << u.loadPath << "\"";
    if (u.source == CheckedModelUse::Source::Ensemble) {
      os << " members [";
      for (size_t i = 0; i < u.members.size(); ++i)
        os << (i ? ", " : "") << u.members[i];
      os << "] weights " << u.weighting;
      if (u.weighting == "accuracy")
        os << "(" << splitName(p, u.weightSplit) << ")";
      for (double w : u.weights)
        os << " " << ConstValue::ofFloat(w).str();
    }
    os << "\n";
    if (u.train)
      dumpTrain(p, *u.train, "  ", os);
  }
  for (const TrainSpec &s : p.stages) {
    os << "stage " << s.name << ": " << s.kind << "\n";
    dumpTrain(p, s, "  ", os);
  }
  for (const CheckedEvaluate &e : p.evaluations) {
    if (e.loss) {
      os << "evaluate " << e.expression << " on " << splitName(p, e.split) << "\n";
      dumpLoss(p, *e.loss, "  ", os);
      continue;
    }
    os << "evaluate " << e.model << " on " << splitName(p, e.split) << " metrics [";
    for (size_t i = 0; i < e.metrics.size(); ++i)
      os << (i ? ", " : "") << e.metrics[i];
    os << "]\n";
    if (e.using_)
      dumpLoss(p, *e.using_, "  ", os);
  }
  for (const CheckedExport &x : p.exports)
    os << "export " << x.model << " to \"" << x.path << "\" format " << x.format << "\n";
}

} // namespace kd
