package runnerpod

import (
	corev1 "k8s.io/api/core/v1"
)

// hasWorkspace reports whether the pod gets the workspace volume.
//
// DELIBERATE DIFFERENCE: the platform adds it only for persistence other than
// none or cloneRepos (§1.4), yet mounts it in init-hydrate whenever
// hydrateState is set, which makes the pod invalid for persistence none with
// hydrateState only (a §1.4 quirk). The init container needs somewhere to
// hydrate into that the runner sees, so it gets the volume too.
func hasWorkspace(in Inputs) bool { return in.Runtime.NeedsWorkspace() || in.Runtime.NeedsInit() }

// volumes are the pod's volumes in the platform's order: workspace, vertex,
// trusted-ca-bundle, runner-token (§3.7).
func volumes(in Inputs) []corev1.Volume {
	var vols []corev1.Volume
	if hasWorkspace(in) {
		size := in.Runtime.WorkspaceSize.DeepCopy()
		vols = append(vols, corev1.Volume{
			Name:         volumeWorkspace,
			VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}},
		})
	}
	if in.VertexSecretCopied {
		vols = append(vols, corev1.Volume{
			Name:         volumeVertex,
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: vertexSecretName}},
		})
	}
	if in.TrustedCABundle {
		vols = append(vols, corev1.Volume{
			Name: volumeTrustedCABundle,
			VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: trustedCABundleName},
			}},
		})
	}
	// Always present: the runner re-reads the token file, which the kubelet
	// refreshes when the operator rotates k8s-token (§4.3, §4.4).
	vols = append(vols, corev1.Volume{
		Name: volumeRunnerToken,
		VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: in.TokenSecret,
			Items:      []corev1.KeyToPath{{Key: tokenKeyK8s, Path: runnerTokenFile}},
		}},
	})
	return vols
}

// workspaceMounts are the two workspace mounts every container has: the whole
// workspace, and its state directory at /app/<stateDir> (§3.7).
func workspaceMounts(in Inputs) []corev1.VolumeMount {
	if !hasWorkspace(in) {
		return nil
	}
	return []corev1.VolumeMount{
		{Name: volumeWorkspace, MountPath: workspacePath},
		{Name: volumeWorkspace, MountPath: stateMountPath(in), SubPath: stateDir(in)},
	}
}

// runnerMounts are the runner container's mounts in the platform's order (§3.7).
func runnerMounts(in Inputs) []corev1.VolumeMount {
	mounts := workspaceMounts(in)
	if in.VertexSecretCopied {
		mounts = append(mounts, corev1.VolumeMount{Name: volumeVertex, MountPath: vertexMountPath, ReadOnly: true})
	}
	if in.TrustedCABundle {
		mounts = append(mounts, corev1.VolumeMount{
			Name: volumeTrustedCABundle, MountPath: caBundleMountPath, SubPath: caBundleKey, ReadOnly: true,
		})
	}
	return append(mounts, corev1.VolumeMount{Name: volumeRunnerToken, MountPath: runnerTokenPath, ReadOnly: true})
}
