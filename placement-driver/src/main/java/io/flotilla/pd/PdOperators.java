package io.flotilla.pd;

import io.flotilla.proto.PdOperator;
import io.flotilla.proto.PdStep;
import io.flotilla.proto.RangeEpoch;
import java.util.ArrayList;
import java.util.List;

/** Converts operators between the planner's records and the PD log's messages. */
public final class PdOperators {
  private PdOperators() {}

  public static PdOperator toProto(String id, Operator op, RangeEpoch epoch, long nowMillis) {
    PdOperator.Builder b = PdOperator.newBuilder().setId(id).setRangeId(op.rangeId()).setKind(op.kind())
        .setPriority(op.priority().name()).setReason(op.reason()).setStatus("running")
        .setStartedAtMillis(nowMillis).setStartEpoch(epoch);
    for (Step s : op.steps()) {
      PdStep.Builder step = PdStep.newBuilder();
      if (s instanceof Step.AddReplica a) {
        step.setAddReplica(a.node());
      } else if (s instanceof Step.RemoveReplica r) {
        step.setRemoveReplica(r.node());
      } else if (s instanceof Step.TransferLeader t) {
        step.setTransferLeader(t.node());
      } else if (s instanceof Step.SplitRange sp) {
        step.setSplit(sp.why()).setSplitAt(com.google.protobuf.ByteString.copyFrom(sp.at()));
      } else if (s instanceof Step.MergeWith m) {
        step.setMergeWith(m.rightId());
      }
      b.addSteps(step);
    }
    return b.build();
  }

  public static Operator fromProto(PdOperator p) {
    List<Step> steps = new ArrayList<>();
    for (PdStep s : p.getStepsList()) {
      steps.add(switch (s.getKindCase()) {
        case ADD_REPLICA -> new Step.AddReplica(s.getAddReplica());
        case REMOVE_REPLICA -> new Step.RemoveReplica(s.getRemoveReplica());
        case TRANSFER_LEADER -> new Step.TransferLeader(s.getTransferLeader());
        case SPLIT -> new Step.SplitRange(s.getSplit(), s.getSplitAt().toByteArray());
        case MERGE_WITH -> new Step.MergeWith(s.getMergeWith());
        case KIND_NOT_SET -> throw new IllegalArgumentException("operator " + p.getId() + " has an empty step");
      });
    }
    return new Operator(p.getRangeId(), p.getKind(), Operator.Priority.valueOf(p.getPriority()), steps, p.getReason());
  }
}
