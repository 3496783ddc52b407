// The users-permissions JWT secret is fixed by the harness, so that a
// bridge under test can verify the JWTs Strapi signs.
module.exports = ({ env }) => ({
  'users-permissions': {
    config: { jwtSecret: env('JWT_SECRET') },
  },
});
