package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// Stages of a rebind, as its progress records name them.
const (
	stageRetain         = "retain"
	stageUsersStopped   = "users-stopped"
	stageClaimDeleted   = "claim-deleted"
	stageReleased       = "released"
	stageClaimRef       = "claim-ref"
	stageBound          = "bound"
	stagePolicyRestored = "policy-restored"
)

// volumes reads and writes PersistentVolumes and claims for a rebind, in
// either direction: forward to the moved claim, back to the original one
// on rollback. Every stage is judged from what the cluster shows, so a
// rebind stopped anywhere continues from where it is.
type volumes struct {
	cl   *cluster
	wait time.Duration
	// progress journals a stage reached.
	progress func(stage string) error
}

func (v *volumes) pv(ctx context.Context, name string) (*corev1.PersistentVolume, error) {
	pv, err := v.cl.kube.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading PersistentVolume %s: %w", name, err)
	}
	return pv, nil
}

// claim reads a claim; nil when it does not exist.
func (v *volumes) claim(ctx context.Context, ns, name string) (*corev1.PersistentVolumeClaim, error) {
	u, err := v.cl.get(ctx, Object{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: name})
	if err != nil || u == nil {
		return nil, err
	}
	var c corev1.PersistentVolumeClaim
	if err := fromUnstructured(u, &c); err != nil {
		return nil, fmt.Errorf("reading claim %s/%s: %w", ns, name, err)
	}
	return &c, nil
}

// setPolicy sets the volume's reclaim policy.
func (v *volumes) setPolicy(ctx context.Context, name string, policy corev1.PersistentVolumeReclaimPolicy) error {
	_, err := v.cl.patch(ctx, Object{APIVersion: "v1", Kind: "PersistentVolume", Name: name},
		map[string]any{"spec": map[string]any{"persistentVolumeReclaimPolicy": policy}}, false, false)
	return err
}

// release stops what mounts the claim ns/name (uid), deletes it and waits
// until its volume is released. Nothing is done when the claim is gone.
func (v *volumes) release(ctx context.Context, ns, name, uid, volume string) error {
	c, err := v.claim(ctx, ns, name)
	if err != nil {
		return err
	}
	if c != nil {
		if string(c.UID) != uid {
			return &stopError{fmt.Sprintf("claim %s/%s was recreated (uid %s, expected %s): its volume is left alone", ns, name, c.UID, uid)}
		}
		if err := v.stopUsers(ctx, ns, name); err != nil {
			return err
		}
		if err := v.progress(stageUsersStopped); err != nil {
			return err
		}
		o := Object{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: name}
		if err := v.cl.remove(ctx, o, uid, false); err != nil {
			return err
		}
		if err := v.cl.waitObjectGone(ctx, o, uid, v.wait); err != nil {
			return err
		}
		if err := v.progress(stageClaimDeleted); err != nil {
			return err
		}
	}
	err = waitFor(ctx, v.wait, "waiting for volume "+volume+" to be released", func(ctx context.Context) (bool, string, error) {
		pv, err := v.pv(ctx, volume)
		if err != nil {
			return false, "", err
		}
		ref := pv.Spec.ClaimRef
		if ref != nil && string(ref.UID) != uid && ref.UID != "" {
			return false, "", &stopError{fmt.Sprintf("volume %s is bound to claim %s/%s (uid %s), not to the one being released", volume, ref.Namespace, ref.Name, ref.UID)}
		}
		return pv.Status.Phase == corev1.VolumeReleased || pv.Status.Phase == corev1.VolumeAvailable,
			fmt.Sprintf("phase %s", pv.Status.Phase), nil
	})
	if err != nil {
		return err
	}
	return v.progress(stageReleased)
}

// stopUsers scales to zero the Deployments and StatefulSets whose pods
// mount the claim, and waits until no pod mounts it. A pod no workload
// controls is not stopped: the rebind stops and says so.
func (v *volumes) stopUsers(ctx context.Context, ns, claim string) error {
	mounting := func(ctx context.Context) ([]corev1.Pod, error) {
		l, err := v.cl.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing the pods of %s: %w", ns, err)
		}
		var out []corev1.Pod
		for _, p := range l.Items {
			for _, vol := range p.Spec.Volumes {
				if vol.PersistentVolumeClaim != nil && vol.PersistentVolumeClaim.ClaimName == claim {
					out = append(out, p)
					break
				}
			}
		}
		return out, nil
	}
	pods, err := mounting(ctx)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, p := range pods {
		w, err := v.workloadOf(ctx, &p)
		if err != nil {
			return err
		}
		if w == nil {
			return &stopError{fmt.Sprintf("pod %s/%s mounts claim %s and no Deployment or StatefulSet controls it: stop it, then resume", ns, p.Name, claim)}
		}
		if done[w.key()] {
			continue
		}
		done[w.key()] = true
		if _, err := v.cl.patch(ctx, *w, map[string]any{"spec": map[string]any{"replicas": 0}}, false, false, "scale"); err != nil {
			return err
		}
	}
	return waitFor(ctx, v.wait, "waiting for the pods that mount claim "+ns+"/"+claim+" to stop", func(ctx context.Context) (bool, string, error) {
		pods, err := mounting(ctx)
		if err != nil {
			return false, "", err
		}
		return len(pods) == 0, fmt.Sprintf("%d pods still mount it", len(pods)), nil
	})
}

// workloadOf is the Deployment or StatefulSet that controls a pod, or nil.
func (v *volumes) workloadOf(ctx context.Context, p *corev1.Pod) (*Object, error) {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return nil, nil
	}
	switch ref.Kind {
	case "StatefulSet":
		return &Object{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: p.Namespace, Name: ref.Name}, nil
	case "ReplicaSet":
		rs, err := v.cl.kube.AppsV1().ReplicaSets(p.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading ReplicaSet %s/%s of pod %s: %w", p.Namespace, ref.Name, p.Name, err)
		}
		if d := metav1.GetControllerOf(rs); d != nil && d.Kind == "Deployment" {
			return &Object{APIVersion: "apps/v1", Kind: "Deployment", Namespace: p.Namespace, Name: d.Name}, nil
		}
		return &Object{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: p.Namespace, Name: rs.Name}, nil
	}
	return nil, nil
}

// pointTo re-points a released volume to the claim ns/name, without a
// UID, so that only that claim can bind it: never two claims on one
// volume. The volume's resourceVersion is the patch's precondition.
func (v *volumes) pointTo(ctx context.Context, volume, ns, name string) error {
	pv, err := v.pv(ctx, volume)
	if err != nil {
		return err
	}
	if ref := pv.Spec.ClaimRef; ref != nil && ref.Namespace == ns && ref.Name == name && ref.UID == "" {
		return v.progress(stageClaimRef)
	}
	op := "add"
	if pv.Spec.ClaimRef != nil {
		op = "replace"
	}
	patch := []map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": pv.ResourceVersion},
		{"op": op, "path": "/spec/claimRef", "value": map[string]any{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": ns, "name": name}},
	}
	if _, err := v.cl.patch(ctx, Object{APIVersion: "v1", Kind: "PersistentVolume", Name: volume}, patch, true, false); err != nil {
		return err
	}
	// The claim is created only once the volume controller has seen the
	// new claimRef and made the volume Available: a claim it sees first,
	// while its cache still holds the old binding, waits Pending for its
	// periodic resync.
	err = waitFor(ctx, v.wait, "waiting for volume "+volume+" to be Available to "+ns+"/"+name, func(ctx context.Context) (bool, string, error) {
		pv, err := v.pv(ctx, volume)
		if err != nil {
			return false, "", err
		}
		return pv.Status.Phase == corev1.VolumeAvailable || pv.Status.Phase == corev1.VolumeBound, fmt.Sprintf("phase %s", pv.Status.Phase), nil
	})
	if err != nil {
		return err
	}
	return v.progress(stageClaimRef)
}

// bindRetryAnnotation is set on a claim, then removed, to make the volume
// controller look at it again. The controller binds the volume to a new
// claim at once, but often leaves the claim itself Pending until its
// periodic resync (15 seconds by default, measured on a 1.34 control
// plane): an update of the claim makes it finish the binding at once.
const bindRetryAnnotation = "purser.dev/bind-retry"

// waitBound waits until the claim ns/name and the volume are bound to
// each other.
func (v *volumes) waitBound(ctx context.Context, volume, ns, name string) error {
	claim := Object{APIVersion: "v1", Kind: "PersistentVolumeClaim", Namespace: ns, Name: name}
	start, nudged := time.Now(), false
	err := waitFor(ctx, v.wait, fmt.Sprintf("waiting for claim %s/%s to bind volume %s", ns, name, volume), func(ctx context.Context) (bool, string, error) {
		c, err := v.claim(ctx, ns, name)
		if err != nil || c == nil {
			return false, "the claim is not there", err
		}
		pv, err := v.pv(ctx, volume)
		if err != nil {
			return false, "", err
		}
		ref := pv.Spec.ClaimRef
		volumeBound := pv.Status.Phase == corev1.VolumeBound && ref != nil && ref.UID == c.UID
		ok := c.Status.Phase == corev1.ClaimBound && c.Spec.VolumeName == volume && volumeBound
		if !ok && volumeBound && !nudged && time.Since(start) > time.Second {
			nudged = true
			if _, err := v.cl.patch(ctx, claim, map[string]any{"metadata": map[string]any{"annotations": map[string]any{bindRetryAnnotation: volume}}}, false, false); err != nil {
				return false, "", err
			}
		}
		// A retry left by a run stopped here is cleared all the same.
		nudged = nudged || c.Annotations[bindRetryAnnotation] != ""
		return ok, fmt.Sprintf("claim %s, volume %s", c.Status.Phase, pv.Status.Phase), nil
	})
	if err != nil {
		return err
	}
	if nudged {
		if _, err := v.cl.patch(ctx, claim, map[string]any{"metadata": map[string]any{"annotations": map[string]any{bindRetryAnnotation: nil}}}, false, false); err != nil {
			return err
		}
	}
	return v.progress(stageBound)
}

// rebindStep hands a volume from its source claim to the target's claim:
// Retain, stop what mounts the source claim, delete it (UID
// precondition), wait until the volume is Released, re-point its claimRef
// to the target claim (namespace and name, no UID), create the target
// claim with spec.volumeName, wait until both are Bound, and restore the
// reclaim policy the backup recorded. The volume is never copied and never
// offered to two claims.
func (r *run) rebindStep(ctx context.Context, s *StepResult) (string, *After, error) {
	v := &volumes{cl: r.cl, wait: r.o.Wait, progress: func(stage string) error {
		if err := r.j.add(Record{Type: RecordProgress, Step: s.Index, Change: s.Change, Object: &s.Object, Stage: stage}); err != nil {
			return err
		}
		if r.o.AtStage != nil {
			return r.o.AtStage(ctx, s.Step, stage)
		}
		return nil
	}}
	vol, src, dst := *s.Volume, *s.From, s.Object
	pv, err := v.pv(ctx, vol.Name)
	if err != nil {
		return "", nil, err
	}
	if string(pv.UID) != vol.UID {
		return "", nil, r.blocked(s, fmt.Sprintf("volume %s was recreated since the plan was built (uid %s, the plan's %s)", vol.Name, pv.UID, vol.UID))
	}
	policy, err := r.savedPolicy(vol)
	if err != nil {
		return "", nil, err
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		if err := v.setPolicy(ctx, vol.Name, corev1.PersistentVolumeReclaimRetain); err != nil {
			return "", nil, err
		}
		if err := v.progress(stageRetain); err != nil {
			return "", nil, err
		}
	}
	if ref := pv.Spec.ClaimRef; ref == nil || ref.Namespace != dst.Namespace || ref.Name != dst.Name {
		if err := v.release(ctx, src.Namespace, src.Name, src.UID, vol.Name); err != nil {
			var stop *stopError
			if errors.As(err, &stop) {
				return "", nil, r.blocked(s, stop.msg)
			}
			return "", nil, err
		}
		if err := v.pointTo(ctx, vol.Name, dst.Namespace, dst.Name); err != nil {
			return "", nil, err
		}
	}
	msg, after, err := r.createStep(ctx, s, s.manifest)
	if err != nil {
		return "", nil, err
	}
	if err := v.waitBound(ctx, vol.Name, dst.Namespace, dst.Name); err != nil {
		return "", nil, err
	}
	if policy != corev1.PersistentVolumeReclaimRetain {
		if err := v.setPolicy(ctx, vol.Name, policy); err != nil {
			return "", nil, err
		}
		if err := v.progress(stagePolicyRestored); err != nil {
			return "", nil, err
		}
	}
	return fmt.Sprintf("volume %s handed over, claim %s; reclaim policy %s", vol.Name, msg, policy), after, nil
}

// savedPolicy is the reclaim policy the backup recorded for a volume.
func (r *run) savedPolicy(vol Object) (corev1.PersistentVolumeReclaimPolicy, error) {
	return policyOf(r.saved, vol)
}

func policyOf(saved []unstructured.Unstructured, vol Object) (corev1.PersistentVolumeReclaimPolicy, error) {
	for i := range saved {
		u := &saved[i]
		if u.GetKind() == "PersistentVolume" && u.GetName() == vol.Name && string(u.GetUID()) == vol.UID {
			p, _, _ := unstructured.NestedString(u.Object, "spec", "persistentVolumeReclaimPolicy")
			if p == "" {
				p = string(corev1.PersistentVolumeReclaimDelete)
			}
			return corev1.PersistentVolumeReclaimPolicy(p), nil
		}
	}
	return "", fmt.Errorf("%s (uid %s) is not in the backup: its reclaim policy is unknown", vol, vol.UID)
}

// stopError is a volume found other than a rebind expects: the step
// blocks, changing nothing more.
type stopError struct{ msg string }

func (e *stopError) Error() string { return e.msg }

// fromUnstructured converts a live object into its typed form.
func fromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}
