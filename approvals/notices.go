package approvals

import (
	"context"
	"errors"
	"sync"
	"time"
)

// The notice outbox. An action writes its notices — and, when it finished
// the request, the Finisher's call — in its own transaction and after commit
// carries them out at once (Service.after); done ones are forgotten in
// batches by SweepNotices, which also redoes any entry still in the outbox
// after NoticeRetryAfter: the node died between commit and posting, or chat
// or the roster refused. The Notifier makes a second post of the same notice
// a no-op and the Finisher is idempotent per request, so each happens once.

// postedNotices are ids posted on this node and not yet deleted.
type postedNotices struct {
	mu  sync.Mutex
	ids []string
}

func (p *postedNotices) add(id string) {
	p.mu.Lock()
	p.ids = append(p.ids, id)
	p.mu.Unlock()
}

func (p *postedNotices) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := p.ids
	p.ids = nil
	return ids
}

// finishQueue runs the Finisher off the acting request: a few workers, and
// when they are all busy and the queue is full the caller runs it itself
// (back-pressure rather than an unbounded backlog).
type finishQueue struct {
	once sync.Once
	jobs chan finishJob
}

type finishJob struct {
	n  Notice
	ev Event
}

const (
	finishWorkers = 2
	finishBacklog = 1024
)

func (s *Service) finishLater(n Notice, ev Event) {
	s.finishing.once.Do(func() {
		s.finishing.jobs = make(chan finishJob, finishBacklog)
		for range finishWorkers {
			go func() {
				for j := range s.finishing.jobs {
					s.finish(j)
				}
			}()
		}
	})
	select {
	case s.finishing.jobs <- finishJob{n, ev}:
	default:
		s.finish(finishJob{n, ev})
	}
}

func (s *Service) finish(j finishJob) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.finisher.RequestFinished(ctx, j.ev); err != nil {
		s.log.Warn("approvals: a finished request's effect is not done yet; it is retried", "request", j.n.RequestID, "err", err)
		return
	}
	s.posted.add(j.n.ID)
}

// sweepBatch is how many left-over notices one query returns; a sweep takes
// batches until none is left or maxSweep were posted (the next sweep goes
// on).
const (
	sweepBatch = 200
	maxSweep   = 5000
)

// SweepNotices forgets the notices this node posted and posts again the
// ones left over (by any node) for longer than NoticeRetryAfter. It returns
// how many it posted again. The lead runs it every second, so the outbox
// holds about a second of posted notices: after a crash that is what is
// posted again (as no-ops) before the notices that really were not.
func (s *Service) SweepNotices(ctx context.Context) (int, error) {
	if s.notifier == nil && s.finisher == nil {
		return 0, nil
	}
	var errs []error
	if ids := s.posted.take(); len(ids) > 0 {
		if err := s.store.DeleteNotices(ctx, ids); err != nil {
			// Posted already: left in the outbox they are posted again as
			// no-ops later, then deleted.
			errs = append(errs, err)
		}
	}
	reposted := 0
	for reposted < maxSweep {
		old, err := s.store.Notices(ctx, s.clock.Now().Add(-s.noticeRetry), sweepBatch)
		if err != nil {
			return reposted, errors.Join(append(errs, err)...)
		}
		var done []string
		for _, n := range old {
			if err := s.redo(ctx, n); err != nil {
				errs = append(errs, err)
				continue
			}
			done = append(done, n.ID)
		}
		if len(done) > 0 {
			if err := s.store.DeleteNotices(ctx, done); err != nil {
				return reposted, errors.Join(append(errs, err)...)
			}
		}
		reposted += len(done)
		if len(old) < sweepBatch || len(done) < len(old) {
			break // none left, or chat refuses: try again next sweep
		}
	}
	return reposted, errors.Join(errs...)
}

// redo posts a left-over notice again, or calls the Finisher for the
// request as it is now.
func (s *Service) redo(ctx context.Context, n Notice) error {
	if n.Reason != ReasonFinished {
		if s.notifier == nil {
			return nil
		}
		return s.notifier.Notify(ctx, n)
	}
	if s.finisher == nil {
		return nil
	}
	r, err := s.store.Request(ctx, n.OrgID, n.RequestID)
	if err != nil {
		return err
	}
	return s.finisher.RequestFinished(ctx, eventOf(r, r.FinishedAt))
}
