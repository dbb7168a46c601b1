package runnerpod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// hydrateContainer is init-hydrate (§3.4): it restores state from S3 and
// clones the repos and workflow before the runner starts. It gets no registry
// env, as on the platform, and no resources (the namespace LimitRange applies).
func hydrateContainer(in Inputs) corev1.Container {
	return corev1.Container{
		Name:            InitContainerName,
		Image:           in.Runtime.StateSyncImage,
		ImagePullPolicy: in.Config.ImagePullPolicy,
		Command:         []string{hydrateCommand},
		Env:             withSessionEnv(InitContainerName, hydrateEnv(in), nil, in.Session.Spec.EnvironmentVariables),
		VolumeMounts:    workspaceMounts(in),
		SecurityContext: stateSyncSecurityContext(),
	}
}

// hydrateEnv is init-hydrate's operator env in the contract's order (§3.4).
// BOT_TOKEN lets hydrate.sh fetch the user's git credentials from the backend.
func hydrateEnv(in Inputs) []corev1.EnvVar {
	s := in.Session
	env := []corev1.EnvVar{
		plain(EnvStateSessionName, s.Name),
		plain(EnvStateNamespace, s.Namespace),
		plain(EnvS3Endpoint, in.S3.Endpoint),
		plain(EnvS3Bucket, in.S3.Bucket),
		plain(EnvAWSAccessKeyID, in.S3.AccessKey),
		plain(EnvAWSSecretAccessKey, in.S3.SecretKey),
		plain(EnvBackendAPIURL, backendAPIURL(in.Config)),
		plain(EnvProjectName, s.Namespace),
	}
	env = appendIfSet(env, EnvReposJSON, reposJSON(s))
	env = workflowEnv(env, s)
	return append(env, fromSecret(EnvBotToken, in.TokenSecret, tokenKeyK8s, false))
}

// stateSyncContainer is the state-sync sidecar (§3.6), an ordinary container:
// it saves the state directory, artifacts and uploads to S3 every minute and
// once more on SIGTERM, within the pod's grace period.
func stateSyncContainer(in Inputs) corev1.Container {
	return corev1.Container{
		Name:            StateSyncContainerName,
		Image:           in.Runtime.StateSyncImage,
		ImagePullPolicy: in.Config.ImagePullPolicy,
		Command:         []string{stateSyncCommand},
		Env:             withSessionEnv(StateSyncContainerName, stateSyncEnv(in), in.Runtime.Env, in.Session.Spec.EnvironmentVariables),
		VolumeMounts:    workspaceMounts(in),
		Resources:       stateSyncResources(),
		SecurityContext: stateSyncSecurityContext(),
	}
}

// stateSyncEnv is state-sync's operator env in the contract's order (§3.6).
func stateSyncEnv(in Inputs) []corev1.EnvVar {
	s := in.Session
	return []corev1.EnvVar{
		plain(EnvStateSessionName, s.Name),
		plain(EnvStateNamespace, s.Namespace),
		plain(EnvS3Endpoint, in.S3.Endpoint),
		plain(EnvS3Bucket, in.S3.Bucket),
		plain(EnvSyncInterval, syncIntervalSeconds),
		plain(EnvMaxSyncSize, maxSyncSizeBytes),
		plain(EnvAWSAccessKeyID, in.S3.AccessKey),
		plain(EnvAWSSecretAccessKey, in.S3.SecretKey),
	}
}

// stateSyncResources are the sidecar's fixed requests and limits (§3.6).
func stateSyncResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("100m"),
			corev1.ResourceMemory: resource.MustParse("128Mi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("1000m"),
			corev1.ResourceMemory: resource.MustParse("1Gi"),
		},
	}
}
