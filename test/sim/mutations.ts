// Deliberately broken variants of the core. The harness must catch each one: a checker that
// cannot fail proves nothing.
import type { Message, RaftConfig } from '../../src/raft/index.ts';
import { Raft, committedIndex, message } from '../../src/raft/index.ts';
import type { RaftFactory } from './simulation.ts';

/** Commits any entry a majority holds, even one from an older term (Raft paper, Figure 8). */
class CommitOldTermByCount extends Raft {
  protected override maybeCommit(): boolean {
    const index = committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.raftLog.committed) return false;
    this.commitTo(index);
    return true;
  }
}

/** Grants every vote request whose log is up to date, even after voting for someone else. */
class VoteTwice extends Raft {
  protected override handleVoteRequest(m: Message): void {
    if (this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.send(message({ type: m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp', to: m.from, term: m.term }));
      if (m.type === 'MsgVote') this.vote = m.from;
      return;
    }
    this.send(message({ type: m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp', to: m.from, term: this.term, reject: true }));
  }
}

/** Votes without checking that the candidate's log is at least as up to date (§5.4.1). */
class VoteIgnoringLog extends Raft {
  protected override handleVoteRequest(m: Message): void {
    const canVote = this.vote === m.from || (this.vote === '' && this.lead === '') || (m.type === 'MsgPreVote' && m.term > this.term);
    if (canVote) {
      this.send(message({ type: m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp', to: m.from, term: m.term }));
      if (m.type === 'MsgVote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
      return;
    }
    this.send(message({ type: m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp', to: m.from, term: this.term, reject: true }));
  }
}

/** Serves reads at the leader's commit index without confirming it still leads. */
class ReadWithoutQuorum extends Raft {
  protected override handleReadIndex(m: Message): boolean {
    this.respondToRead(m, this.raftLog.committed);
    return true;
  }
}

export const mutations: Record<string, RaftFactory> = {
  'commit-old-term-by-count': (c: RaftConfig) => new CommitOldTermByCount(c),
  'vote-twice': (c: RaftConfig) => new VoteTwice(c),
  'vote-ignoring-log': (c: RaftConfig) => new VoteIgnoringLog(c),
  'read-without-quorum': (c: RaftConfig) => new ReadWithoutQuorum(c),
};
