package pglift

// Results, decoded from the JSON the library returns (the pglift CLI's `-o json` schema). Fields a
// newer library adds are ignored by encoding/json.

// Instance is an instance as found on disk and, when running, as PostgreSQL reports it.
type Instance struct {
	Name           string         `json:"name"`
	Version        string         `json:"version"`
	Port           int            `json:"port"`
	Settings       map[string]any `json:"settings"`
	DataChecksums  *bool          `json:"data_checksums"`
	Locale         *string        `json:"locale"`
	Encoding       *string        `json:"encoding"`
	State          string         `json:"state"` // "started" or "stopped"
	PendingRestart bool           `json:"pending_restart"`
	DataDirectory  string         `json:"data_directory"`
	WalDirectory   string         `json:"wal_directory"`
	// Patroni is set for a Patroni member: its cluster, its node and the cluster's members (patroni.go).
	Patroni *PatroniInfo `json:"patroni,omitempty"`
}

// QualName is "<version>-<name>", e.g. "15-main".
func (i *Instance) QualName() string { return i.Version + "-" + i.Name }

// InstanceListItem is one row of `instance list`.
type InstanceListItem struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Port    int    `json:"port"`
	Datadir string `json:"datadir"`
	Status  string `json:"status"` // "running" or "not_running"
}

// InstanceStatus is the state of the instance's PostgreSQL server.
type InstanceStatus struct {
	PostgreSQL string `json:"postgresql"` // "running" or "not_running"
	PID        *int   `json:"pid"`
	// Patroni is set for a Patroni member: the state of its Patroni (patroni.go).
	Patroni *PatroniStatus `json:"patroni,omitempty"`
}

// Running tells whether the server runs.
func (s *InstanceStatus) Running() bool { return s.PostgreSQL == "running" }

// InstanceSpec is the manifest of pglift_instance_create and of ApplyInstance. For fields not modelled
// here (auth, passwords...), pass the JSON document itself to CreateJSON or ApplyInstanceJSON.
type InstanceSpec struct {
	Name          string         `json:"name"`
	Version       string         `json:"version,omitempty"`
	Port          int            `json:"port,omitempty"`
	Settings      map[string]any `json:"settings,omitempty"`
	DataChecksums *bool          `json:"data_checksums,omitempty"`
	Locale        string         `json:"locale,omitempty"`
	Encoding      string         `json:"encoding,omitempty"`
	State         string         `json:"state,omitempty"` // "started" (default) or "stopped"; ApplyInstance: also "absent", "restarted"
}
