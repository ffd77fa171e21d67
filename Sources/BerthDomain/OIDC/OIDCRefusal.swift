/// Explains why AWS refused one of Berth's tokens: which claim most likely failed, and what would
/// make AWS accept it. AWS's own messages say little ("Not authorized to perform
/// sts:AssumeRoleWithWebIdentity"); the explanation names the claim and shows the trust policy
/// that accepts exactly this token.
public enum OIDCRefusal {
    /// - Parameters:
    ///   - code: the AWS error code (`AccessDenied`, `InvalidIdentityToken`, …).
    ///   - message: AWS's message.
    ///   - policy: the trust policy that accepts this token's audience and subject.
    public static func explain(code: String?, message: String, policy: TrustPolicy, subject: String) -> String {
        let lower = message.lowercased()
        let host = policy.providerHost
        let policyText = (try? policy.document.rendered(pretty: true)) ?? "(the role ARN is not an IAM role ARN)"
        switch code {
        case "AccessDenied":
            return """
                AWS refused the token's claims against the role's trust policy. The token had \
                sub "\(subject)" and aud "\(policy.audience)"; most likely the trust policy's \
                condition on \(host):sub does not match the sub claim (or its condition on \(host):aud \
                does not match the audience, or its Federated principal is not \((try? policy.providerARN) ?? "Berth's provider")). \
                A trust policy that accepts this token (berth account trust-policy prints it):
                \(policyText)
                """
        case "InvalidIdentityToken" where lower.contains("audience"):
            return """
                The aud claim "\(policy.audience)" is not a client ID (audience) of the OIDC provider \(host) in IAM. \
                Add it: aws iam add-client-id-to-open-id-connect-provider \
                --open-id-connect-provider-arn \((try? policy.providerARN) ?? "<provider ARN>") --client-id \(policy.audience)
                """
        case "InvalidIdentityToken" where lower.contains("provider found") || lower.contains("no openidconnect"):
            return """
                The iss claim names an issuer that IAM does not know: register Berth as an OIDC provider \
                (berth oidc provider prints the command) in the role's AWS account.
                """
        case "InvalidIdentityToken" where lower.contains("verification key") || lower.contains("signature"):
            return """
                AWS could not verify the token's signature: it fetches https://\(host)/.well-known/openid-configuration \
                and the JWKS from the internet, so Berth's public URL must be reachable over HTTPS and the key \
                that signed the token (kid in the header) must be published. Check berth oidc keys list.
                """
        case "ExpiredTokenException", "IDPRejectedClaim":
            return """
                AWS found the token's time claims (iat, nbf, exp) invalid: check that the Berth server's clock is right.
                """
        default:
            return
                "The token had sub \"\(subject)\" and aud \"\(policy.audience)\"; a trust policy that accepts it:\n\(policyText)"
        }
    }
}
