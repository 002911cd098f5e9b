// SigV4 against AWS's published examples for S3 ("Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk"): the canonical request, the string to sign and
// the signature, exactly.
#include "sigv4.h"

#include <gtest/gtest.h>

#include <map>

#include "podmortem/core/sha256.h"

namespace podmortem::evidence::sigv4 {
namespace {

const Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const std::string kEmptySha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(SigV4, TheGetObjectExample) {
  Request request{"GET", "/test.txt", {},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Range", "bytes=0-9"},
                   {"x-amz-content-sha256", kEmptySha},
                   {"x-amz-date", "20130524T000000Z"}},
                  kEmptySha};
  auto signed_ = sign(request, kExample, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(signed_.canonicalRequest,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:" + kEmptySha + "\nx-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n" + kEmptySha);
  EXPECT_EQ(signed_.stringToSign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(signed_.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(signed_.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, ThePutObjectExampleEncodesThePath) {
  const std::string payload = "Welcome to Amazon S3.";
  const std::string payloadSha = core::sha256Hex(payload);
  ASSERT_EQ(payloadSha, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  Request request{"PUT", "/test$file.text", {},
                  {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                   {"x-amz-date", "20130524T000000Z"},
                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                   {"x-amz-content-sha256", payloadSha}},
                  payloadSha};
  auto signed_ = sign(request, kExample, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_EQ(signed_.canonicalRequest,
            "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\nx-amz-content-sha256:" + payloadSha +
            "\nx-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n" + payloadSha);
  EXPECT_EQ(signed_.stringToSign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(signed_.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, QueryParametersAreSortedEncodedAndAValuelessOneEndsInAnEqualsSign) {
  Request lifecycle{"GET", "/", {{"lifecycle", ""}},
                    {{"Host", "examplebucket.s3.amazonaws.com"},
                     {"x-amz-content-sha256", kEmptySha},
                     {"x-amz-date", "20130524T000000Z"}},
                    kEmptySha};
  auto signed_ = sign(lifecycle, kExample, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(signed_.canonicalRequest.find("\n/\nlifecycle=\n"), std::string::npos) << signed_.canonicalRequest;
  EXPECT_EQ(signed_.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  Request list{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
               {{"Host", "examplebucket.s3.amazonaws.com"},
                {"x-amz-content-sha256", kEmptySha},
                {"x-amz-date", "20130524T000000Z"}},
               kEmptySha};
  signed_ = sign(list, kExample, "us-east-1", "s3", "20130524T000000Z");
  EXPECT_NE(signed_.canonicalRequest.find("\nmax-keys=2&prefix=J\n"), std::string::npos);
  EXPECT_EQ(signed_.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// AWS's example of a pre-signed URL ("Authenticating Requests: Using Query Parameters"): GET
// test.txt of examplebucket for 86400 seconds.
TEST(SigV4, ThePresignedUrlExample) {
  auto query = presign("GET", "/test.txt", "examplebucket.s3.amazonaws.com", kExample, "us-east-1",
                       "20130524T000000Z", 86400);
  ASSERT_FALSE(query.empty());
  EXPECT_EQ(query.back().first, "X-Amz-Signature");
  EXPECT_EQ(query.back().second, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  std::map<std::string, std::string> parameters(query.begin(), query.end());
  EXPECT_EQ(parameters["X-Amz-Credential"], "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request");
  EXPECT_EQ(parameters["X-Amz-SignedHeaders"], "host");
  EXPECT_EQ(parameters["X-Amz-Expires"], "86400");
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(uriEncode("a b/c~d_e.f-g", true), "a%20b/c~d_e.f-g");
  EXPECT_EQ(uriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(uriEncode("\xC3\xA9*'()!$", false), "%C3%A9%2A%27%28%29%21%24");
}

}  // namespace
}  // namespace podmortem::evidence::sigv4
