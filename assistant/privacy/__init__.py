"""What may leave the device: the policy (a pure function), redaction, minimisation, the audit log.

Import the submodules directly (``assistant.privacy.policy`` ...); this package has no
import-time side effects.
"""
