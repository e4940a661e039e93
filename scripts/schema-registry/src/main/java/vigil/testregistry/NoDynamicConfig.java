package vigil.testregistry;

import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import java.util.List;
import javax.enterprise.context.ApplicationScoped;
import javax.enterprise.inject.Produces;

/**
 * Stands in for Apicurio's config-index Quarkus extension, whose build-time half
 * (apicurio-common-app-components-config-index-deployment) is not on Maven Central: that extension
 * only lists the properties an admin may change at run time. With this empty list none can be,
 * which a throwaway test registry never needs.
 */
@ApplicationScoped
public class NoDynamicConfig {
    @Produces
    @ApplicationScoped
    DynamicConfigPropertyList dynamicConfigProperties() {
        return new DynamicConfigPropertyList(List.of());
    }
}
