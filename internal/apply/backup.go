package apply

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// writeBackup writes objects into dir as one List, mode 0600, before any
// step changes them. The objects are kept as the server returned them
// (UID, resourceVersion, labels and annotations included) less their
// managed fields, so that a rollback can restore them and tell that what it
// finds is what was backed up. The file is written under a temporary name
// and renamed, inside dir opened as a root, so that a crash never leaves a
// half backup and no symbolic link leads the write elsewhere.
func writeBackup(dir string, objects []*unstructured.Unstructured) error {
	list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List"}}
	for _, o := range objects {
		c := o.DeepCopy()
		c.SetManagedFields(nil)
		list.Items = append(list.Items, *c)
	}
	js, err := list.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding backup: %w", err)
	}
	data, err := yaml.JSONToYAML(js)
	if err != nil {
		return fmt.Errorf("encoding backup: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("opening backup directory %s: %w", dir, err)
	}
	defer root.Close()
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return fmt.Errorf("writing backup: %w", err)
	}
	tmp := "." + BackupFile + ".tmp-" + hex.EncodeToString(suffix)
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing backup in %s: %w", dir, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, BackupFile)
	}
	if err != nil {
		_ = root.Remove(tmp)
		return fmt.Errorf("writing backup %s: %w", filepath.Join(dir, BackupFile), err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// ReadBackup reads the objects of a backup file.
func ReadBackup(path string) ([]unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading backup: %w", err)
	}
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, fmt.Errorf("reading backup %s: %w", path, err)
	}
	var list unstructured.UnstructuredList
	if err := list.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("reading backup %s: %w", path, err)
	}
	if !bytes.Contains(js, []byte(`"kind":"List"`)) {
		return nil, fmt.Errorf("reading backup %s: not a List of objects", path)
	}
	return list.Items, nil
}

// toUnstructured turns a typed object into the backup's form.
func toUnstructured(obj runtime.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}
