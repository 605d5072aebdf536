package action

import (
	"context"
	"fmt"
	"sync"
)

// Cluster names one cluster of a run over several and the options that
// build its Env. Name labels everything reported of it: the kubeconfig
// context, or the name purser.yaml's clusters section gives it.
type Cluster struct {
	Name    string
	Options Options
}

// ClusterEnv is the Env of one cluster of a run over several. Each cluster
// keeps its own Env, never a merged snapshot: two clusters may well hold a
// namespace and an object of the same name, and the engines would take
// them for one.
type ClusterEnv struct {
	Name string
	Env  *Env
}

// ClusterError is a cluster whose Env could not be built.
type ClusterError struct {
	Name string
	Err  error
}

func (e *ClusterError) Error() string { return fmt.Sprintf("cluster %s: %v", e.Name, e.Err) }
func (e *ClusterError) Unwrap() error { return e.Err }

// NewEnvs builds the Env of every cluster, at most parallel at once (a
// live collection already reads several kinds at once; more clusters than
// that would only queue on the same cores). The Envs come back in the
// order of clusters; a cluster that fails is returned among the errors,
// in order too, and does not stop the others: a report of the clusters
// that could be read is worth more than none.
func NewEnvs(ctx context.Context, clusters []Cluster, parallel int) ([]ClusterEnv, []*ClusterError) {
	if parallel <= 0 {
		parallel = 4
	}
	envs := make([]*Env, len(clusters))
	errs := make([]error, len(clusters))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			env, err := NewEnv(ctx, c.Options)
			if err != nil {
				errs[i] = err
				return
			}
			env.Snapshot.Meta.Cluster = c.Name
			envs[i] = env
		}()
	}
	wg.Wait()
	var ok []ClusterEnv
	var failed []*ClusterError
	for i, c := range clusters {
		if errs[i] != nil {
			failed = append(failed, &ClusterError{Name: c.Name, Err: errs[i]})
			continue
		}
		ok = append(ok, ClusterEnv{Name: c.Name, Env: envs[i]})
	}
	return ok, failed
}
