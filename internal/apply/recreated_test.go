package apply

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRecreatedEarlier(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		intended bool
		managers []metav1.ManagedFieldsEntry
		want     bool
	}{
		{"recreated by an attempt cut short", true, []metav1.ManagedFieldsEntry{{Manager: fieldManager, Operation: metav1.ManagedFieldsOperationUpdate}}, true},
		{"no attempt in the journal", false, []metav1.ManagedFieldsEntry{{Manager: fieldManager, Operation: metav1.ManagedFieldsOperationUpdate}}, false},
		{"created by someone else", true, []metav1.ManagedFieldsEntry{{Manager: "kubectl-create", Operation: metav1.ManagedFieldsOperationUpdate}}, false},
		{"applied by a later purser run", true, []metav1.ManagedFieldsEntry{{Manager: fieldManager, Operation: metav1.ManagedFieldsOperationApply}}, false},
		{"no managers", true, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rb := &rollback{intended: map[int]bool{}}
			if tt.intended {
				rb.intended[7] = true
			}
			live := &metav1.ObjectMeta{Name: "kvibes", UID: "new", ManagedFields: tt.managers}
			if got := rb.recreatedEarlier(7, live); got != tt.want {
				t.Errorf("recreatedEarlier = %v, want %v", got, tt.want)
			}
		})
	}
}
